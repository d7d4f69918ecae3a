/* gridmap map loader (MIT, part of gridmap).
 * Builds Leaflet layers from the compact columnar specs written by
 * gridmap/maps/_encode.py and _layers.py. Data values only ever reach the DOM
 * through textContent: never innerHTML. */
(function () {
  'use strict';
  var G = window.GridMap = window.GridMap || {};
  var CHUNK = 4000;
  var queue = [];
  var pending = 0;
  G.specs = {};
  G.layers = {};
  G.searchIndex = null;
  G.ready = false;
  G.t0 = (window.performance && performance.now) ? performance.now() : 0;

  var SYMBOLS = {
    flag: '<svg xmlns="http://www.w3.org/2000/svg" width="18" height="20" viewBox="0 0 18 20">' +
      '<path d="M3 1v18" stroke="#222" stroke-width="2"/><path d="M4 2h12l-3 4 3 4H4z" ' +
      'fill="FILL" stroke="#222" stroke-width="1"/></svg>',
    square: '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
      '<rect x="1.5" y="1.5" width="13" height="13" rx="2" fill="FILL" stroke="#fff" ' +
      'stroke-width="2"/><path d="M5 8h6M8 5v6" stroke="#fff" stroke-width="2"/></svg>',
    star: '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 24 24">' +
      '<path d="M12 1.5l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.6 5.6 21.1 7 14 1.7 9l7.2-.9z" ' +
      'fill="FILL" stroke="#222" stroke-width="1"/></svg>'
  };
  var SYMBOL_FILL = {flag: '#d7191c', square: '#2b8cbe', star: '#ff7f00'};
  var IDLE_FILL = '#9e9e9e';
  var iconCache = {};

  function decodeColumn(c, n) {
    var out, i, prev;
    if (Array.isArray(c)) { return c; }
    if (c.d) {
      out = new Array(c.i.length);
      for (i = 0; i < c.i.length; i++) { out[i] = c.d[c.i[i]]; }
      return out;
    }
    if (c.v) {
      out = new Array(c.v.length); prev = 0;
      for (i = 0; i < c.v.length; i++) {
        prev += c.v[i];
        var s = String(prev);
        while (s.length < c.n) { s = '0' + s; }
        out[i] = s;
      }
      return out;
    }
    if (c.f) {
      out = []; prev = '';
      for (i = 0; i < c.f.length; i += 3) {
        prev = prev.slice(0, c.f[i]) + c.f[i + 2] +
          (c.f[i + 1] ? prev.slice(prev.length - c.f[i + 1]) : '');
        out.push(prev);
      }
      return out;
    }
    return new Array(n);
  }

  /* Integers in the encoded-polyline code (see _encode.polyline). */
  function decodeInts(str) {
    var out = [], i = 0, n = str.length;
    while (i < n) {
      var shift = 0, result = 0, b;
      do {
        b = str.charCodeAt(i++) - 63;
        result |= (b & 0x1f) << shift;
        shift += 5;
      } while (b >= 0x20);
      out.push((result & 1) ? ~(result >> 1) : (result >> 1));
    }
    return out;
  }
  G.decodeInts = decodeInts;

  function Cursor(scale) { this.x = 0; this.y = 0; this.s = scale; }
  Cursor.prototype.ring = function (str) {
    var flat = decodeInts(str);
    var out = new Array(flat.length / 2);
    for (var i = 0, j = 0; i < flat.length; i += 2, j++) {
      this.x += flat[i]; this.y += flat[i + 1];
      out[j] = [this.y / this.s, this.x / this.s];
    }
    return out;
  };
  Cursor.prototype.geom = function (g) {
    if (!g.length) { return null; }
    if (typeof g === 'string') { return [this.ring(g)]; }
    var self = this;
    return g.map(function (poly) { return poly.map(function (r) { return self.ring(r); }); });
  };

  function formatValue(v, fmt, spec) {
    if (v === null || v === undefined || v === '') { return '—'; }
    if (fmt === 'bool') { return v ? spec.words[0] : spec.words[1]; }
    if (fmt === 'm') { return Math.round(v).toLocaleString() + ' m'; }
    if (fmt === 'int' && typeof v === 'number') { return Math.round(v).toLocaleString(); }
    return String(v);
  }

  function popupNode(layer) {
    var spec = layer._gmSpec, i = layer._gmIndex;
    var table = document.createElement('table');
    table.className = 'gm-popup';
    var caption = document.createElement('caption');
    caption.textContent = spec.title;
    table.appendChild(caption);
    spec.fields.forEach(function (f) {
      var tr = table.insertRow();
      var th = document.createElement('th');
      th.textContent = f[1];
      tr.appendChild(th);
      tr.insertCell().textContent = formatValue(spec.data[f[0]][i], f[2], spec);
    });
    return table;
  }
  G.popupNode = popupNode;

  function tooltipNode(layer) {
    var spec = layer._gmSpec, i = layer._gmIndex;
    var span = document.createElement('span');
    span.textContent = spec.tooltip.map(function (k) { return spec.data[k][i]; })
      .filter(function (v) { return v !== null && v !== undefined && v !== ''; }).join(' · ');
    return span;
  }

  function pathStyle(spec, i) {
    var style = L.extend({}, spec.style);
    if (spec.colorBy) {
      var c = spec.colorBy.colors[spec.data[spec.colorBy.col][i]] || spec.colorBy.other;
      style.fillColor = c;
      if (spec.type === 'point') { style.fillColor = c; }
    }
    if (spec.alert && spec.data._alert[i]) {
      style.color = spec.alert.color; style.weight = spec.alert.weight;
    }
    return style;
  }

  function symbolIcon(spec, i) {
    var idle = spec.data.idle && spec.data.idle[i];
    var key = spec.symbol + (idle ? ':idle' : '');
    if (!iconCache[key]) {
      var svg = SYMBOLS[spec.symbol].replace('FILL', idle ? IDLE_FILL : SYMBOL_FILL[spec.symbol]);
      var size = spec.symbol === 'star' ? 22 : 18;
      iconCache[key] = L.divIcon({html: svg, className: 'gm-symbol gm-' + spec.symbol,
        iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
    }
    return iconCache[key];
  }

  function searchKey(spec, i) {
    if (!spec.search.length) { return undefined; }
    var parts = spec.search.map(function (k) { return spec.data[k][i]; })
      .filter(function (v) { return v !== null && v !== undefined && v !== ''; });
    return parts.length ? parts.join(' ') : undefined;
  }

  function makeFeature(spec, i, cursor, latlngOrRings) {
    var layer, opts;
    if (spec.type === 'polygon') {
      opts = pathStyle(spec, i);
      layer = L.polygon(latlngOrRings, opts);
    } else if (spec.symbol === 'circle') {
      layer = L.circleMarker(latlngOrRings, pathStyle(spec, i));
    } else {
      layer = L.marker(latlngOrRings, {icon: symbolIcon(spec, i), keyboard: false});
    }
    layer._gmSpec = spec;
    layer._gmIndex = i;
    var key = searchKey(spec, i);
    if (key !== undefined) { layer.options.searchKey = key; }
    return layer;
  }

  function buildChunks(spec, group) {
    var cursor = new Cursor(Math.pow(10, spec.p));
    var i = 0;
    var px = 0, py = 0;
    var xy = spec.type === 'point' ? decodeInts(spec.xy) : null;
    var seen = {};
    function step() {
      var end = Math.min(spec.n, i + CHUNK), batch = [];
      for (; i < end; i++) {
        var where;
        if (spec.type === 'polygon') {
          where = cursor.geom(spec.g[i]);
          if (!where) { continue; }
        } else {
          px += xy[2 * i]; py += xy[2 * i + 1];
          where = [py / cursor.s, px / cursor.s];
        }
        var f = makeFeature(spec, i, cursor, where);
        var k = f.options.searchKey;
        if (k !== undefined) {  // leaflet-search keys records by text: keep them unique
          if (seen[k]) { f.options.searchKey = k + ' (' + (seen[k] + 1) + ')'; }
          seen[k] = (seen[k] || 0) + 1;
        }
        batch.push(f);
      }
      if (group.addLayers) { group.addLayers(batch); }
      else { for (var b = 0; b < batch.length; b++) { group.addLayer(batch[b]); } }
      if (i < spec.n) { setTimeout(step, 0); } else { done(); }
    }
    return step;
  }

  function done() {
    pending -= 1;
    if (pending === 0) { finish(); }
  }

  function finish() {
    G.ready = true;
    G.readyMs = ((window.performance && performance.now) ? performance.now() : 0) - G.t0;
    if (G.map) { G.map.fire('gridmap:ready'); }
    document.documentElement.setAttribute('data-gridmap-ready', '1');
  }

  function nextLayer() {
    var job = queue.shift();
    if (job) { job(); setTimeout(nextLayer, 0); }
  }

  /* Register one data layer: decode columns now, add features in chunks so a
   * page with 100k cells stays responsive while it loads. */
  G.addLayer = function (map, group, spec, words) {
    G.map = map;
    spec.data = {};
    Object.keys(spec.cols).forEach(function (k) {
      spec.data[k] = decodeColumn(spec.cols[k], spec.n);
    });
    spec.words = words;
    G.specs[spec.id] = spec;
    G.layers[spec.id] = group;
    if (spec.fields.length && spec.style.interactive !== false) {
      group.bindPopup(popupNode, {maxWidth: 360});
      if (spec.tooltip.length) { group.bindTooltip(tooltipNode, {sticky: true}); }
    }
    if (spec.search.length) {
      if (!G.searchIndex) { G.searchIndex = L.layerGroup(); }
      G.searchIndex.addLayer(group);
    }
    pending += 1;
    queue.push(buildChunks(spec, group));
  };

  G.start = function () {
    if (pending === 0) { finish(); return; }
    setTimeout(nextLayer, 0);
  };

  /* Open the popup of a feature found by the search control. */
  G.openFound = function (map, layer, latlng) {
    if (!layer || layer._gmSpec === undefined) { return; }
    var show = function () {
      L.popup({maxWidth: 360}).setLatLng(layer.getLatLng ? layer.getLatLng() : latlng)
        .setContent(popupNode(layer)).openOn(map);
    };
    var group = G.layers[layer._gmSpec.id];
    if (group && group.zoomToShowLayer) { group.zoomToShowLayer(layer, show); } else { show(); }
  };

  /* leaflet-search writes tips with innerHTML unless buildTip is given. */
  G.searchTip = function (text) {
    var a = document.createElement('a');
    a.textContent = text;
    return a;
  };

  /* Outline of a polygon spec for the minimap (no tiles when the basemap is none). */
  G.outlineLayer = function (id) {
    var spec = G.specs[id], out = L.layerGroup();
    if (!spec) { return out; }
    var cursor = new Cursor(Math.pow(10, spec.p));
    for (var i = 0; i < spec.n; i++) {
      var rings = cursor.geom(spec.g[i]);
      if (rings) {
        out.addLayer(L.polygon(rings, {color: '#333', weight: 1, fill: false,
          interactive: false}));
      }
    }
    return out;
  };
  /* Legend control from a list of entries; all text through textContent. */
  G.legend = function (map, title, entries) {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'gm-legend');
      var h = document.createElement('h2');
      h.textContent = title;
      div.appendChild(h);
      entries.forEach(function (e) {
        var row;
        if (e.h) {
          row = document.createElement('h3');
          row.textContent = e.h;
        } else {
          row = document.createElement('div');
          row.className = 'gm-legend-item';
          if (e.sym) {
            var holder = document.createElement('span');
            holder.innerHTML = SYMBOLS[e.sym].replace('FILL', SYMBOL_FILL[e.sym]);  // static SVG
            row.appendChild(holder.firstChild);
          } else {
            var sw = document.createElement('i');
            sw.className = 'gm-' + e.sw;
            if (e.c) { sw.style.background = e.c; }
            if (e.b) { sw.style.borderColor = e.b; }
            row.appendChild(sw);
          }
          row.appendChild(document.createTextNode(e.t));
        }
        div.appendChild(row);
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };

  /* Title box (top centre on wide screens). */
  G.title = function (map, title, subtitle) {
    var ctl = L.control({position: 'topright'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'gm-title');
      var h = document.createElement('h1');
      h.textContent = title;
      div.appendChild(h);
      if (subtitle) {
        var s = document.createElement('div');
        s.textContent = subtitle;
        div.appendChild(s);
      }
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };
}());
