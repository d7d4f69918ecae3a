// The dashboard's map (Leaflet, served from the package) and the progress line of a job.
// No inline script: everything the page needs is in data- attributes.
(function () {
  "use strict";

  var COLOURS = { covered: "#2e7d32", partial: "#f9a825", blind: "#c62828", empty: "#9e9e9e" };

  function getJSON(url, done) {
    var req = new XMLHttpRequest();
    req.open("GET", url);
    req.setRequestHeader("Accept", "application/json");
    req.onload = function () {
      if (req.status === 200) { done(JSON.parse(req.responseText)); }
    };
    req.send();
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }

  function popup(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line) { box.appendChild(text(line)); box.appendChild(document.createElement("br")); });
    return box;
  }

  function startMap(el) {
    if (!window.L) { return; }
    var labels = JSON.parse(el.getAttribute("data-labels"));
    var run = el.getAttribute("data-run") + "&area=" + encodeURIComponent(el.getAttribute("data-area"));
    var map = L.map(el, { preferCanvas: true });
    var cells = L.geoJSON(null, {
      style: function (f) {
        var c = COLOURS[f.properties.status] || "#9e9e9e";
        return { color: c, weight: 1, fillColor: c, fillOpacity: 0.35 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(popup([p.code + " " + (p.name || ""), labels[p.status] || p.status, p.covered + " / " + p.units]));
      }
    }).addTo(map);
    var note = document.getElementById("dash-map-note");
    var pending = 0;
    function loadCells() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      var mine = ++pending;
      getJSON("/dashboard/cells.geojson?run=" + run + "&zoom=" + map.getZoom() + "&bbox=" + bbox, function (data) {
        if (mine !== pending) { return; }
        cells.clearLayers();
        cells.addData(data);
        el.setAttribute("data-cells", String(data.features.length));
        if (note) { note.textContent = data.truncated ? labels.truncated : ""; }
      });
    }
    getJSON("/dashboard/layers.json?run=" + run, function (data) {
      var zones = L.geoJSON(data.blind_zones, { style: { color: "#6a1b9a", weight: 2, fillOpacity: 0.4 } });
      var service = L.geoJSON(data.service_areas, { style: { color: "#1565c0", weight: 1, fillColor: "#90caf9", fillOpacity: 0.2 } });
      var stations = L.geoJSON(data.stations, {
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { radius: 6, color: "#fff", weight: 1, fillColor: f.properties.idle ? "#757575" : "#0b4f9c", fillOpacity: 1 });
        },
        onEachFeature: function (f, layer) { layer.bindPopup(popup([f.properties.name, f.properties.idle ? labels.idle : ""])); }
      });
      var sites = L.geoJSON(data.sites, {
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7, color: "#fff", weight: 1, fillColor: "#ff6f00", fillOpacity: 1 }); },
        onEachFeature: function (f, layer) { layer.bindPopup(popup([labels.sites + " " + (f.properties.rank || ""), f.properties.name])); }
      });
      service.addTo(map); zones.addTo(map); stations.addTo(map); sites.addTo(map);
      var overlays = {};
      overlays[labels.cells] = cells; overlays[labels.zones] = zones; overlays[labels.service] = service;
      overlays[labels.stations] = stations; overlays[labels.sites] = sites;
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      var bounds = data.bounds;
      if (bounds) { map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]); } else { map.setView([28.3, 117.2], 12); }
      map.on("moveend", loadCells);
      loadCells();
      el.setAttribute("data-ready", "1");
    });
  }

  function followJob(el) {
    var id = el.getAttribute("data-job");
    var status = el.querySelector(".job-status");
    var labels = JSON.parse(el.getAttribute("data-labels") || "{}");
    var stages = JSON.parse(el.getAttribute("data-stages") || "{}");
    var bar = el.querySelector(".job-bar");
    var percent = el.querySelector(".job-percent");
    var stage = el.querySelector(".job-stage");
    function poll() {
      getJSON("/api/jobs/" + id, function (job) {
        if (job.status === "done" || job.status === "failed") {
          window.location.reload();
          return;
        }
        if (status) { status.textContent = labels[job.status] || job.status; }
        var done = job.progress || 0;
        if (bar) { bar.value = done; }
        if (percent) { percent.textContent = Math.round(done * 100) + "%"; }
        if (stage && job.stage) { stage.textContent = stages[job.stage] || job.stage; }
        window.setTimeout(poll, 1000);
      });
    }
    if (el.classList.contains("job-queued") || el.classList.contains("job-running")) { window.setTimeout(poll, 1000); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("dash-map");
    if (el) { startMap(el); }
    var job = document.getElementById("job");
    if (job) { followJob(job); }
  });
})();
