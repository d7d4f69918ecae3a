/* The cell map: the boundary and the units of one cell, coloured by status (Leaflet, vendored).
 * Reads its settings from #cell-map[data-config] (no inline script under the CSP). With no
 * basemap, or offline, the cell and its units are drawn on a blank background. */
(function () {
  "use strict";
  var box = document.getElementById("cell-map");
  if (!box) return;
  var COLOURS = { covered: "#1b7a3a", partial: "#d99a00", blind: "#c0392b" };
  var config;
  try { config = JSON.parse(box.getAttribute("data-config") || "{}"); } catch (e) { config = {}; }

  function say(text) {
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    box.appendChild(p);
  }

  if (typeof window.L === "undefined" || !config.geojson) {
    say(box.getAttribute("data-failed"));
    return;
  }
  var L = window.L;

  function popup(props) {
    var card = document.getElementById("unit-" + props.unit_id);
    var wrap = document.createElement("div");
    var link = document.createElement("a");
    link.href = "#unit-" + props.unit_id;
    link.textContent = props.name || ("#" + props.unit_id);
    wrap.appendChild(link);
    var status = card && card.querySelector(".kind .status");
    if (status) {
      wrap.appendChild(document.createElement("br"));
      wrap.appendChild(document.createTextNode(status.textContent));
    }
    return wrap;
  }

  function draw(data) {
    box.textContent = "";
    var map = L.map(box, { attributionControl: false, zoomSnap: 0.5 });
    L.control.attribution({ prefix: false }).addTo(map);
    (config.tiles || []).forEach(function (t) {
      L.tileLayer(t.url, {
        attribution: t.attribution, subdomains: t.subdomains || "abc", maxZoom: t.maxZoom || 18
      }).addTo(map);
    });
    var layer = L.geoJSON(data, {
      style: function (f) { // applies to the unit circles too: only the outline has one
        if (f.properties.layer !== "cell") return {};
        return { color: "#0b4f9c", weight: 2, fillColor: "#0b4f9c", fillOpacity: 0.06,
                 className: "cell-outline" };
      },
      pointToLayer: function (f, latlng) {
        var status = f.properties.status;
        return L.circleMarker(latlng, {
          radius: f.properties.must_have_branch ? 9 : 7,
          color: "#222", weight: f.properties.must_have_branch ? 3 : 1,
          fillColor: COLOURS[status] || "#777", fillOpacity: 0.9,
          className: "unit-marker unit-" + status
        });
      },
      onEachFeature: function (f, lyr) {
        if (f.properties.layer === "unit") lyr.bindPopup(function () { return popup(f.properties); });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 });
    else map.setView([30, 115], 5);
    box.setAttribute("data-ready", "1");
  }

  say(box.getAttribute("data-loading"));
  fetch(config.geojson, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(draw)
    .catch(function () { say(box.getAttribute("data-failed")); });
})();
