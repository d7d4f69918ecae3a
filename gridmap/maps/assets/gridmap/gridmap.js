/* gridmap map loader (MIT, part of gridmap).
 * Builds Leaflet layers from the compact columnar specs written by
 * gridmap/maps/_encode.py and _layers.py. Data values only ever reach the DOM
 * through textContent: never innerHTML.
 *
 * Built for 100k grid cells without freezing the page:
 * - each layer's geometry and columns sit in a JSON data block, parsed and decoded
 *   by a queue of jobs that work ~12 ms at a time and then yield;
 * - polygons are not Leaflet objects: a PolygonLayer keeps them in typed arrays
 *   (Web Mercator), paints the features in view on one canvas (many tiny ones pixel
 *   by pixel, outlines by level of detail) and answers clicks and hovers with a grid
 *   index; search reads the decoded columns. */
(function () {
  'use strict';
  var G = window.GridMap = window.GridMap || {};
  var queue = [];
  G.specs = {};
  G.layers = {};
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

  /* Time slicing: work for at most BUDGET ms, then give the page a turn. */
  var BUDGET = 12;
  function now() { return (window.performance && performance.now) ? performance.now() : Date.now(); }
  var later = (function () {
    if (typeof MessageChannel === 'undefined') { return function (fn) { setTimeout(fn, 0); }; }
    var channel = new MessageChannel(), fns = [];
    channel.port1.onmessage = function () { var fn = fns.shift(); if (fn) { fn(); } };
    return function (fn) { fns.push(fn); channel.port2.postMessage(0); };
  }());

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
      var zeros = new Array(c.n + 1).join('0');
      for (i = 0; i < c.v.length; i++) {
        prev += c.v[i];
        var s = String(prev);
        out[i] = s.length < c.n ? zeros.slice(s.length) + s : s;
      }
      return out;
    }
    if (c.f) {
      out = new Array(c.f.length / 3); prev = '';
      for (i = 0; i < c.f.length; i += 3) {
        prev = prev.slice(0, c.f[i]) + c.f[i + 2] +
          (c.f[i + 1] ? prev.slice(prev.length - c.f[i + 1]) : '');
        out[i / 3] = prev;
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

  /* ---- polygon geometry: flat typed arrays in normalised Web Mercator ([0, 1]) ---- */
  var MAX_LAT = 85.0511287798, RAD = Math.PI / 180;
  function mercY(lat) {
    var s = Math.sin(Math.max(Math.min(MAX_LAT, lat), -MAX_LAT) * RAD);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  function growF(a, need) {
    if (need <= a.length) { return a; }
    var b = new Float64Array(Math.max(need, a.length * 2)); b.set(a); return b;
  }
  function growI(a, need) {
    if (need <= a.length) { return a; }
    var b = new Int32Array(Math.max(need, a.length * 2)); b.set(a); return b;
  }

  /* Decoded polygons of one spec: vertices mx/my, rings (ringStart into vertices),
   * features (featRing into rings), bounding boxes and a uniform grid for hit tests.
   * Decoded in time slices (step) so 100k cells never block the page for long. */
  function Geometry(spec) {
    var n = spec.n;
    this.spec = spec; this.n = n; this.count = 0; this.done = false;
    this.s = Math.pow(10, spec.p); this.x = 0; this.y = 0;
    this.mx = new Float64Array(Math.max(16, 5 * n)); this.my = new Float64Array(this.mx.length);
    this.nv = 0;
    this.ringStart = new Int32Array(Math.max(16, n + 2)); this.nr = 0;
    this.featRing = new Int32Array(n + 1);
    this.bbox = new Float64Array(4 * n);
    this.listeners = [];
  }
  Geometry.prototype._ring = function (str) {
    var i = 0, len = str.length, k = this.nv, x = this.x, y = this.y, s = this.s, even = true;
    this.mx = growF(this.mx, k + (len >> 1) + 1); this.my = growF(this.my, this.mx.length);
    this.ringStart = growI(this.ringStart, this.nr + 2);
    this.ringStart[this.nr++] = k;
    var mx = this.mx, my = this.my;
    while (i < len) {
      var shift = 0, result = 0, b;
      do {
        b = str.charCodeAt(i++) - 63;
        result |= (b & 0x1f) << shift;
        shift += 5;
      } while (b >= 0x20);
      var v = (result & 1) ? ~(result >> 1) : (result >> 1);
      if (even) { x += v; } else {
        y += v;
        mx[k] = (x / s + 180) / 360; my[k] = mercY(y / s); k++;
      }
      even = !even;
    }
    this.nv = k; this.x = x; this.y = y;
  };
  Geometry.prototype._feature = function (i) {
    var g = this.spec.g[i], r0 = this.nr, v0 = this.nv, p, r;
    if (typeof g === 'string') { this._ring(g); } else {
      for (p = 0; p < g.length; p++) { for (r = 0; r < g[p].length; r++) { this._ring(g[p][r]); } }
    }
    this.featRing[i] = r0; this.ringStart[this.nr] = this.nv;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (var k = v0; k < this.nv; k++) {
      var X = this.mx[k], Y = this.my[k];
      if (X < x0) { x0 = X; } if (X > x1) { x1 = X; }
      if (Y < y0) { y0 = Y; } if (Y > y1) { y1 = Y; }
    }
    var b = 4 * i;
    this.bbox[b] = x0; this.bbox[b + 1] = y0; this.bbox[b + 2] = x1; this.bbox[b + 3] = y1;
  };
  /* Decode features until the time budget is spent; true when all are done. */
  Geometry.prototype.step = function (deadline) {
    while (this.count < this.n) {
      this._feature(this.count++);
      if ((this.count & 255) === 0 && now() > deadline) { break; }
    }
    if (this.count < this.n) { return false; }
    this.featRing[this.n] = this.nr;
    this.spec.g = null;  // the strings are no longer needed
    this._index();
    this.done = true;
    this.listeners.forEach(function (fn) { fn(); });
    return true;
  };
  /* Uniform grid over the bounding boxes (about two features a bucket). */
  Geometry.prototype._index = function () {
    var n = this.n, bb = this.bbox, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, i;
    for (i = 0; i < n; i++) {
      if (!(bb[4 * i] <= bb[4 * i + 2])) { continue; }
      x0 = Math.min(x0, bb[4 * i]); y0 = Math.min(y0, bb[4 * i + 1]);
      x1 = Math.max(x1, bb[4 * i + 2]); y1 = Math.max(y1, bb[4 * i + 3]);
    }
    if (!(x0 <= x1)) { this.grid = null; return; }
    var side = Math.max(1, Math.ceil(Math.sqrt(n / 2)));
    var g = {x0: x0, y0: y0, nx: side, ny: side,
      cw: (x1 - x0) / side || 1e-12, ch: (y1 - y0) / side || 1e-12};
    var counts = new Int32Array(side * side + 1), pass, cx, cy;
    for (pass = 0; pass < 2; pass++) {
      for (i = 0; i < n; i++) {
        if (!(bb[4 * i] <= bb[4 * i + 2])) { continue; }
        var ax = this._cell(g, bb[4 * i], true), bx = this._cell(g, bb[4 * i + 2], true);
        var ay = this._cell(g, bb[4 * i + 1], false), by = this._cell(g, bb[4 * i + 3], false);
        for (cy = ay; cy <= by; cy++) {
          for (cx = ax; cx <= bx; cx++) {
            if (pass === 0) { counts[cy * side + cx + 1]++; } else { g.items[g.fill[cy * side + cx]++] = i; }
          }
        }
      }
      if (pass === 0) {
        for (i = 1; i < counts.length; i++) { counts[i] += counts[i - 1]; }
        g.start = counts; g.items = new Int32Array(counts[counts.length - 1]);
        g.fill = counts.slice(0, side * side);
      }
    }
    this.grid = g;
  };
  Geometry.prototype._cell = function (g, v, isX) {
    var c = isX ? Math.floor((v - g.x0) / g.cw) : Math.floor((v - g.y0) / g.ch);
    return Math.max(0, Math.min((isX ? g.nx : g.ny) - 1, c));
  };
  /* Features whose box holds (x, y) +- tol, in drawing order. */
  Geometry.prototype.candidates = function (x, y, tol) {
    var g = this.grid, out = [], seen = {};
    if (!g || !this.done) { return out; }
    var ax = this._cell(g, x - tol, true), bx = this._cell(g, x + tol, true);
    var ay = this._cell(g, y - tol, false), by = this._cell(g, y + tol, false), bb = this.bbox;
    for (var cy = ay; cy <= by; cy++) {
      for (var cx = ax; cx <= bx; cx++) {
        var c = cy * g.nx + cx;
        for (var k = g.start[c]; k < g.start[c + 1]; k++) {
          var i = g.items[k];
          if (seen[i] || x < bb[4 * i] - tol || x > bb[4 * i + 2] + tol ||
              y < bb[4 * i + 1] - tol || y > bb[4 * i + 3] + tol) { continue; }
          seen[i] = true; out.push(i);
        }
      }
    }
    return out.sort(function (a, b) { return a - b; });
  };
  Geometry.prototype.contains = function (i, x, y) {
    var inside = false, mx = this.mx, my = this.my;
    for (var r = this.featRing[i]; r < this.featRing[i + 1]; r++) {
      var a = this.ringStart[r], b = this.ringStart[r + 1];
      for (var k = a, j = b - 1; k < b; j = k++) {
        if ((my[k] > y) !== (my[j] > y) &&
            x < (mx[j] - mx[k]) * (y - my[k]) / (my[j] - my[k]) + mx[k]) { inside = !inside; }
      }
    }
    return inside;
  };
  G.pointSegmentDistance = function (px, py, ax, ay, bx, by) {
    var dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
    var t = len ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len)) : 0;
    var ex = ax + t * dx - px, ey = ay + t * dy - py;
    return Math.sqrt(ex * ex + ey * ey);
  };
  Geometry.prototype.nearEdge = function (i, x, y, tol) {
    var mx = this.mx, my = this.my;
    for (var r = this.featRing[i]; r < this.featRing[i + 1]; r++) {
      var a = this.ringStart[r], b = this.ringStart[r + 1];
      for (var k = a, j = b - 1; k < b; j = k++) {
        if (G.pointSegmentDistance(x, y, mx[j], my[j], mx[k], my[k]) <= tol) { return true; }
      }
    }
    return false;
  };
  /* A point inside feature i (for search results): its box centre, else a vertex mean. */
  Geometry.prototype.labelPoint = function (i) {
    var bb = this.bbox, x = (bb[4 * i] + bb[4 * i + 2]) / 2, y = (bb[4 * i + 1] + bb[4 * i + 3]) / 2;
    if (!this.contains(i, x, y)) {
      var r = this.featRing[i], a = this.ringStart[r], b = this.ringStart[r + 1], sx = 0, sy = 0;
      for (var k = a; k < b; k++) { sx += this.mx[k]; sy += this.my[k]; }
      if (b > a) { x = sx / (b - a); y = sy / (b - a); }
    }
    return mercToLatLng(x, y);
  };
  function mercToLatLng(x, y) {
    var lat = (2 * Math.atan(Math.exp((0.5 - y) * 2 * Math.PI)) - Math.PI / 2) / RAD;
    return L.latLng(lat, x * 360 - 180);
  }
  function geometryOf(spec) {
    if (!spec._geom) { spec._geom = new Geometry(spec); }
    return spec._geom;
  }

  /* ---- popups, tooltips, styles ---- */
  function formatValue(v, fmt, spec) {
    if (v === null || v === undefined || v === '') { return '—'; }
    if (fmt === 'bool') { return v ? spec.words[0] : spec.words[1]; }
    if (fmt === 'm') { return Math.round(v).toLocaleString() + ' m'; }
    if (fmt === 'int' && typeof v === 'number') { return Math.round(v).toLocaleString(); }
    return String(v);
  }

  function popupAt(spec, i) {
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
  function popupNode(layer) { return popupAt(layer._gmSpec, layer._gmIndex); }
  G.popupNode = popupNode;
  G.popupAt = popupAt;

  function tooltipAt(spec, i) {
    var span = document.createElement('span');
    span.textContent = spec.tooltip.map(function (k) { return spec.data[k][i]; })
      .filter(function (v) { return v !== null && v !== undefined && v !== ''; }).join(' · ');
    return span;
  }
  function tooltipNode(layer) { return tooltipAt(layer._gmSpec, layer._gmIndex); }

  function pathStyle(spec, i) {
    var style = L.extend({}, spec.style);
    if (spec.colorBy) {
      style.fillColor = spec.colorBy.colors[spec.data[spec.colorBy.col][i]] || spec.colorBy.other;
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

  /* ---- PolygonLayer: every polygon of a spec painted on one canvas ----
   * Instead of one Leaflet layer per feature (100k objects, a 100k-path redraw on
   * every zoom), the layer keeps the decoded typed arrays, paints the features in
   * view grouped by fill colour (one path per colour), skips strokes of features
   * smaller than a few pixels, and answers clicks and hovers with a grid lookup. */
  var PATH_DEFAULTS = {stroke: true, color: '#3388ff', weight: 3, opacity: 1, fill: true,
    fillColor: null, fillOpacity: 0.2, dashArray: null, interactive: true};
  var MIN_STROKE_PX = 4;  // a filled feature smaller than this shows no outline
  var RASTER_PX = 16;  // features typically smaller than this, and many of them: raster mode
  var RASTER_MIN = 3000;
  // Outlines wider than 1 px cost Skia ~10x more to rasterise: use 1 px when the features
  // are small on screen or many (2.6k dashed 2.2 px village outlines: ~150 ms).
  var THIN_PX = 24;
  var THIN_COUNT = 1500;
  var LABEL_PX = 30;  // a cell narrower than this on screen shows no count
  var LABEL_MAX = 4000;  // more cells in view than this: no counts (they would not fit)
  /* Median size (larger side of the box) of up to 101 of the features, in mercator units. */
  function typicalSize(bb, visible) {
    var step = Math.max(1, Math.floor(visible.length / 101)), sizes = [];
    for (var k = 0; k < visible.length; k += step) {
      var f = 4 * visible[k];
      sizes.push(Math.max(bb[f + 2] - bb[f], bb[f + 3] - bb[f + 1]));
    }
    sizes.sort(function (a, b) { return a - b; });
    return sizes[sizes.length >> 1];
  }
  var colorCtx = null;
  /* A CSS colour as one little-endian RGBA pixel of ImageData. */
  function packColor(css, alpha) {
    if (!colorCtx) { colorCtx = document.createElement('canvas').getContext('2d'); }
    colorCtx.fillStyle = '#000'; colorCtx.fillStyle = css;
    var hex = /^#[0-9a-f]{6}$/i.test(colorCtx.fillStyle) ? colorCtx.fillStyle : '#000000';
    var v = parseInt(hex.slice(1), 16), A = Math.round(255 * Math.max(0, Math.min(1, alpha)));
    return ((A << 24) | ((v & 0xff) << 16) | (v & 0xff00) | (v >> 16)) >>> 0;
  }
  var zCounter = 0;
  var PANE = 'gridmapPolygons';
  var PolygonLayer = null;  // made on first use: this script runs before Leaflet's
  function polygonClass() {
    if (PolygonLayer) { return PolygonLayer; }
    PolygonLayer = L.Renderer.extend({
    options: {padding: 0.1},
    initialize: function (options) {
      L.Renderer.prototype.initialize.call(this, options);
      this._z = ++zCounter;
    },
    setSpec: function (spec, style) {
      this._spec = spec;
      this._geom = geometryOf(spec);
      this._style = L.extend({}, PATH_DEFAULTS, style || spec.style);
      var self = this;
      this._geom.listeners.push(function () { self._colors = null; self.redraw(); });
      return this;
    },
    /* Features decoded so far (all of them once GridMap.ready). */
    size: function () { return this._geom ? this._geom.count : 0; },
    getSpec: function () { return this._spec; },
    setZIndex: function (z) {
      this._z = z;
      if (this._container) { this._container.style.zIndex = z; }
      return this;
    },
    _initContainer: function () {
      var c = this._container = document.createElement('canvas');
      c.style.pointerEvents = 'none';  // clicks reach the map, which asks hitTest
      c.style.zIndex = this._z;
      this._ctx = c.getContext('2d');
    },
    _destroyContainer: function () {
      L.Util.cancelAnimFrame(this._frame);
      this._frame = null;
      L.DomUtil.remove(this._container);  // kept for the next onAdd
    },
    onAdd: function (map) {
      // Own pane just below the overlay pane: polygons stay under Leaflet's canvas of
      // circle markers (as when they were drawn first into it) and under the markers.
      if (!map.getPane(PANE)) { map.createPane(PANE).style.zIndex = 390; }
      this.options.pane = PANE;
      L.Renderer.prototype.onAdd.call(this, map);
      if (this._style.interactive !== false && this._spec && this._spec.fields.length) {
        hitRegistry(map).push(this);
      }
    },
    onRemove: function (map) {
      var list = hitRegistry(map), k = list.indexOf(this);
      if (k >= 0) { list.splice(k, 1); }
      L.Renderer.prototype.onRemove.call(this, map);
    },
    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      var b = this._bounds, size = b.getSize(), m = L.Browser.retina ? 2 : 1, c = this._container;
      L.DomUtil.setPosition(c, b.min);
      c.width = m * size.x; c.height = m * size.y;
      c.style.width = size.x + 'px'; c.style.height = size.y + 'px';
      this._m = m;
      this._paint();
      this.fire('update');
    },
    redraw: function () {
      if (this._map && !this._frame) {
        var self = this;
        this._frame = L.Util.requestAnimFrame(function () {
          self._frame = null;
          if (self._map) { self._update(); }
        });
      }
      return this;
    },
    _palette: function () {
      var spec = this._spec, g = this._geom, style = this._style;
      var idx = new Uint8Array(g.n), colors = [style.fillColor || style.color], map = {};
      if (spec.colorBy && spec.data && spec.data[spec.colorBy.col]) {
        var col = spec.data[spec.colorBy.col];
        for (var i = 0; i < g.n; i++) {
          var c = spec.colorBy.colors[col[i]] || spec.colorBy.other;
          if (map[c] === undefined) { map[c] = colors.length; colors.push(c); }
          idx[i] = map[c];
        }
      }
      return {idx: idx, colors: colors};
    },
    _path: function (ctx, i, ox, oy, scale) {
      var g = this._geom, mx = g.mx, my = g.my;
      for (var r = g.featRing[i]; r < g.featRing[i + 1]; r++) {
        var a = g.ringStart[r], b = g.ringStart[r + 1];
        ctx.moveTo(mx[a] * scale - ox, my[a] * scale - oy);
        for (var k = a + 1; k < b; k++) { ctx.lineTo(mx[k] * scale - ox, my[k] * scale - oy); }
        ctx.closePath();
      }
    },
    _paint: function () {
      var t0 = now(), ctx = this._ctx, g = this._geom, style = this._style, m = this._m;
      var map = this._map, c = this._container;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      this.drawn = 0;
      if (!g || !g.count) { return; }
      ctx.setTransform(m, 0, 0, m, 0, 0);
      var scale = map.options.crs.scale(this._zoom), origin = map.getPixelOrigin(), b = this._bounds;
      var ox = origin.x + b.min.x, oy = origin.y + b.min.y, size = b.getSize();
      var vx0 = ox / scale, vy0 = oy / scale, vx1 = (ox + size.x) / scale, vy1 = (oy + size.y) / scale;
      var bb = g.bbox, n = g.count, i, visible = [], minStroke = MIN_STROKE_PX / scale;
      for (i = 0; i < n; i++) {
        var j = 4 * i;
        if (bb[j + 2] < vx0 || bb[j] > vx1 || bb[j + 3] < vy0 || bb[j + 1] > vy1) { continue; }
        visible.push(i);
      }
      this.drawn = visible.length;
      this.mode = 'paths';
      var typical = visible.length ? typicalSize(bb, visible) * scale : 0;
      if (style.fill && this._spec.coverage && visible.length > RASTER_MIN && typical < RASTER_PX) {
        if (!this._colors && (g.done || !this._spec.colorBy)) { this._colors = this._palette(); }
        this.mode = 'raster';
        this._raster(visible, ox, oy, scale, minStroke);
      } else {
        this._paths(visible, ox, oy, scale, minStroke,
          typical < THIN_PX || visible.length > THIN_COUNT);
      }
      if (this._spec.label && this._spec.data && this._spec.data[this._spec.label]) {
        this._labels(visible, ox, oy, scale);
      }
      this.paintMs = now() - t0;
    },
    /* A count in the middle of each feature wide enough on screen to hold it. */
    _labels: function (visible, ox, oy, scale) {
      if (visible.length > LABEL_MAX) { return; }
      var ctx = this._ctx, bb = this._geom.bbox, col = this._spec.data[this._spec.label];
      ctx.font = 'bold 11px sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
      ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.85)'; ctx.fillStyle = '#222';
      ctx.setLineDash([]);
      for (var k = 0; k < visible.length; k++) {
        var f = visible[k], v = col[f];
        if (!v || (bb[4 * f + 2] - bb[4 * f]) * scale < LABEL_PX) { continue; }
        var x = (bb[4 * f] + bb[4 * f + 2]) / 2 * scale - ox;
        var y = (bb[4 * f + 1] + bb[4 * f + 3]) / 2 * scale - oy;
        var text = Math.round(v).toLocaleString();
        ctx.strokeText(text, x, y); ctx.fillText(text, x, y);
      }
    },
    /* Many features a few pixels across: fill them pixel by pixel (a pixel belongs to
     * the polygon holding its centre, so a coverage stays gap-free) and draw outlines
     * one pixel wide, in one ImageData: ~20 ms for 100k cells instead of ~300 ms. */
    _raster: function (visible, ox, oy, scale, minStroke) {
      var g = this._geom, style = this._style, m = this._m, c = this._container;
      var W = c.width, H = c.height, img = this._ctx.createImageData(W, H);
      var px = new Uint32Array(img.data.buffer), mx = g.mx, my = g.my, bb = g.bbox;
      var S = scale * m, OX = ox * m, OY = oy * m, xs = [], k, f, r, a, b, e, j;
      var pal = this._colors || {idx: new Uint8Array(g.n), colors: [style.fillColor || style.color]};
      var fills = pal.colors.map(function (col) { return packColor(col, style.fillOpacity); });
      var line = packColor(style.color, Math.max(style.fillOpacity,
        style.opacity * Math.min(1, style.weight * m)));
      for (k = 0; k < visible.length; k++) {
        f = visible[k];
        var r0 = g.featRing[f], r1 = g.featRing[f + 1], colour = fills[pal.idx[f]];
        var ya = Math.max(0, Math.ceil(bb[4 * f + 1] * S - OY - 0.5));
        var yb = Math.min(H - 1, Math.floor(bb[4 * f + 3] * S - OY - 0.5));
        for (var y = ya; y <= yb; y++) {
          var yc = y + 0.5;
          xs.length = 0;
          for (r = r0; r < r1; r++) {
            a = g.ringStart[r]; b = g.ringStart[r + 1];
            for (e = a, j = b - 1; e < b; j = e++) {
              var y1 = my[e] * S - OY, y2 = my[j] * S - OY;
              if ((y1 > yc) !== (y2 > yc)) {
                var x1 = mx[e] * S - OX, x2 = mx[j] * S - OX;
                xs.push(x1 + (yc - y1) * (x2 - x1) / (y2 - y1));
              }
            }
          }
          if (xs.length > 2) { xs.sort(function (p, q) { return p - q; }); }
          else if (xs.length === 2 && xs[0] > xs[1]) { var t = xs[0]; xs[0] = xs[1]; xs[1] = t; }
          for (var q = 0; q + 1 < xs.length; q += 2) {
            var xa = Math.max(0, Math.ceil(xs[q] - 0.5)), xb = Math.min(W, Math.ceil(xs[q + 1] - 0.5));
            for (var x = xa, row = y * W; x < xb; x++) { px[row + x] = colour; }
          }
        }
      }
      if (style.stroke && style.weight > 0) {
        for (k = 0; k < visible.length; k++) {
          f = visible[k];
          if (bb[4 * f + 2] - bb[4 * f] < minStroke && bb[4 * f + 3] - bb[4 * f + 1] < minStroke) {
            continue;
          }
          for (r = g.featRing[f]; r < g.featRing[f + 1]; r++) {
            a = g.ringStart[r]; b = g.ringStart[r + 1];
            for (e = a, j = b - 1; e < b; j = e++) {
              var ax = mx[j] * S - OX, ay = my[j] * S - OY, dx = mx[e] * S - OX - ax;
              var dy = my[e] * S - OY - ay, n = Math.ceil(Math.max(Math.abs(dx), Math.abs(dy)));
              for (var i = 0; i <= n; i++) {
                var X = Math.floor(ax + (n ? dx * i / n : 0)), Y = Math.floor(ay + (n ? dy * i / n : 0));
                if (X >= 0 && Y >= 0 && X < W && Y < H) { px[Y * W + X] = line; }
              }
            }
          }
        }
      }
      this._ctx.putImageData(img, 0, 0);
    },
    _paths: function (visible, ox, oy, scale, minStroke, thin) {
      var ctx = this._ctx, g = this._geom, style = this._style, bb = g.bbox;
      // One small path per feature: Chromium builds one huge path far more slowly
      // (10k cells: ~300 ms) than 10k small ones (~10 ms).
      var k, f, pal = null, fill = style.fill, stroke = style.stroke && style.weight > 0;
      if (fill) {
        if (!this._colors && (g.done || !this._spec.colorBy)) { this._colors = this._palette(); }
        pal = this._colors || {idx: new Uint8Array(g.n), colors: [style.fillColor || style.color]};
      }
      ctx.lineWidth = thin ? Math.min(style.weight, 1) : style.weight;  // level of detail
      ctx.strokeStyle = style.color;
      ctx.lineCap = 'round'; ctx.lineJoin = 'round';
      ctx.setLineDash(style.dashArray ? String(style.dashArray).split(/[ ,]+/).map(Number) : []);
      for (k = 0; k < visible.length; k++) {
        f = visible[k];
        ctx.beginPath();
        this._path(ctx, f, ox, oy, scale);
        if (fill) {
          ctx.globalAlpha = style.fillOpacity;
          ctx.fillStyle = pal.colors[pal.idx[f]];
          ctx.fill('evenodd');
        }
        // level of detail: a filled feature a few pixels across shows no outline
        if (stroke && !(fill && bb[4 * f + 2] - bb[4 * f] < minStroke &&
            bb[4 * f + 3] - bb[4 * f + 1] < minStroke)) {
          ctx.globalAlpha = style.opacity;
          ctx.stroke();
        }
      }
      ctx.globalAlpha = 1;
    },
    /* Index of the topmost feature under a map point, or -1. */
    hitTest: function (latlng) {
      var g = this._geom;
      if (!g || !g.done || !this._map) { return -1; }
      var p = this._map.options.crs.projection === L.Projection.SphericalMercator ? latlng : null;
      if (!p) { return -1; }
      var x = (latlng.lng + 180) / 360, y = mercY(latlng.lat);
      var scale = this._map.options.crs.scale(this._map.getZoom());
      var tol = (this._style.weight / 2 + 3) / scale;
      var found = g.candidates(x, y, this._style.fill ? 0 : tol);
      for (var k = found.length - 1; k >= 0; k--) {
        var i = found[k];
        if (this._style.fill ? g.contains(i, x, y) : g.nearEdge(i, x, y, tol)) { return i; }
      }
      return -1;
    }
  });
    G.PolygonLayer = PolygonLayer;
    return PolygonLayer;
  }
  G.polygonLayer = function (options) { return new (polygonClass())(options); };

  /* One click/hover handler per map asks the polygon layers, topmost first. Leaflet
   * layers above (markers, popups) stop the event before it reaches the map. */
  function hitRegistry(map) {
    if (!map._gmHit) {
      map._gmHit = [];
      var tip = null, hovered = null;
      var top = function (latlng) {
        var layers = map._gmHit.slice().sort(function (a, b) { return b._z - a._z; });
        for (var k = 0; k < layers.length; k++) {
          var i = layers[k].hitTest(latlng);
          if (i >= 0) { return {layer: layers[k], i: i}; }
        }
        return null;
      };
      map.on('click', function (e) {
        var hit = top(e.latlng);
        if (!hit || !hit.layer._spec.data) { return; }
        L.popup({maxWidth: 360}).setLatLng(e.latlng)
          .setContent(popupAt(hit.layer._spec, hit.i)).openOn(map);
        if (G.byCell && hit.layer._spec.id === 'cells') { G.byCell.pin(hit.i); }
      });
      map.on('mousemove', function (e) {
        var hit = top(e.latlng);
        map.getContainer().style.cursor = hit ? 'pointer' : '';
        var spec = hit && hit.layer._spec;
        if (!hit || !spec.tooltip.length || !spec.data) {
          if (tip) { map.closeTooltip(tip); tip = null; hovered = null; }
          return;
        }
        var key = spec.id + ':' + hit.i;
        if (!tip) { tip = L.tooltip({sticky: true, direction: 'auto', offset: [12, 0]}); }
        if (key !== hovered) { tip.setContent(tooltipAt(spec, hit.i)); hovered = key; }
        tip.setLatLng(e.latlng);
        if (!map.hasLayer(tip)) { map.openTooltip(tip); }
      });
      map.on('mouseout', function () {
        if (tip) { map.closeTooltip(tip); tip = null; hovered = null; }
        map.getContainer().style.cursor = '';
      });
    }
    return map._gmHit;
  }

  /* ---- loading: a queue of time-sliced jobs ---- */
  /* Geometry and columns from the layer's JSON data block (one JSON.parse). */
  function bodyJob(spec, id) {
    return function () {
      var el = document.getElementById(id);
      if (el) {
        L.extend(spec, JSON.parse(el.textContent));
        el.parentNode.removeChild(el);
      }
      return true;
    };
  }

  function decodeColumnsJob(spec) {
    var keys = null, k = 0;
    return function (deadline) {
      if (!keys) { keys = Object.keys(spec.cols || {}); }
      while (k < keys.length) {
        spec.data[keys[k]] = decodeColumn(spec.cols[keys[k]], spec.n);
        k++;
        if (now() > deadline) { break; }
      }
      if (k < keys.length) { return false; }
      spec.cols = null;
      return true;
    };
  }

  function polygonJob(spec) {
    var geom = geometryOf(spec);
    return function (deadline) { return geom.done || geom.step(deadline); };
  }

  function pointJob(spec, group) {
    var i = 0, px = 0, py = 0, s = Math.pow(10, spec.p), xy = null, batch = [];
    spec.feats = new Array(spec.n);
    return function (deadline) {
      if (!xy) { xy = decodeInts(spec.xy); spec.xy = null; }
      for (; i < spec.n; i++) {
        px += xy[2 * i]; py += xy[2 * i + 1];
        var where = [py / s, px / s], layer;
        if (spec.symbol === 'circle') {
          layer = L.circleMarker(where, pathStyle(spec, i));
        } else {
          layer = L.marker(where, {icon: symbolIcon(spec, i), keyboard: false});
        }
        layer._gmSpec = spec;
        layer._gmIndex = i;
        spec.feats[i] = layer;
        if (group.addLayers) { batch.push(layer); } else { group.addLayer(layer); }
        if ((i & 63) === 63 && now() > deadline) { i++; return false; }
      }
      if (group.addLayers && batch.length) { group.addLayers(batch); batch = []; }
      return true;
    };
  }

  /* ---- units by cell: a large map sums units per cell; the units of a cell are
   * decoded and drawn when it is in view from spec.byCell.zoom on, or clicked. ---- */

  /* The units of a summed map as typed columns (gridmap/maps/_unit_pack.py): a header
   * (JSON) and unsigned arrays stored byte plane by byte plane; a chunk (one cell's
   * units) is read straight from the planes when it is first drawn. */
  function Packed(buffer) {
    var bytes = new Uint8Array(buffer), length = new DataView(buffer).getUint32(0, true);
    this.h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
    this.body = bytes.subarray(4 + length);
    this.codes = this.h.codes;
    var sizes = this.array(this.h.sizes), starts = new Float64Array(sizes.length + 1);
    for (var k = 0; k < sizes.length; k++) { starts[k + 1] = starts[k] + sizes[k]; }
    this.starts = starts;
    this.numbers = {};
  }
  /* One whole array [offset, width, count] of the body. */
  Packed.prototype.array = function (entry) {
    var out = new Float64Array(entry[2]);
    for (var i = 0; i < entry[2]; i++) { out[i] = this.at(entry, i); }
    return out;
  };
  /* Value i of an array: its bytes are i, i + count, ... (low byte first). */
  Packed.prototype.at = function (entry, i) {
    var b = this.body, o = entry[0] + i, n = entry[2], w = entry[1];
    if (w === 1) { return b[o]; }
    if (w === 2) { return b[o] | (b[o + n] << 8); }
    return (b[o] | (b[o + n] << 8) | (b[o + 2 * n] << 16) | (b[o + 3 * n] << 24)) >>> 0;
  };
  /* Code of unit i in stream s (columns of few codes share a byte: mixed radix). */
  Packed.prototype.code = function (s, i) {
    var st = this.h.streams[s];
    return Math.floor(this.at(st[0], i) / st[1]) % st[2];
  };
  /* Number + 1 of every unit's name (delta-coded across units, zigzag), summed once. */
  Packed.prototype.nameNumbers = function (key, spec) {
    if (!this.numbers[key]) {
      var n = this.h.n, out = new Float64Array(n), prev = 0, z;
      for (var i = 0; i < n; i++) {
        z = this.at(spec.k, i);
        prev += (z % 2) ? -(z + 1) / 2 : z / 2;
        out[i] = prev;
      }
      this.numbers[key] = out;
    }
    return this.numbers[key];
  };
  /* The units of chunk k: {n, lat, lon, data: column -> values (null where missing)}. */
  Packed.prototype.chunk = function (k) {
    var h = this.h, a = this.starts[k], n = this.starts[k + 1] - a, s = Math.pow(10, h.p), i;
    var lon = new Array(n), lat = new Array(n), data = {}, self = this;
    var bx = h.x0 + this.at(h.bx, k), by = h.y0 + this.at(h.by, k);
    for (i = 0; i < n; i++) {
      lon[i] = (bx + this.at(h.x, a + i)) / s; lat[i] = (by + this.at(h.y, a + i)) / s;
    }
    var table = function (t) { return [null].concat(t); };
    Object.keys(h.cols).forEach(function (key) {
      var c = h.cols[key], out = new Array(n), j;
      if (c.t === 'dict') {
        var d = table(c.d);
        for (j = 0; j < n; j++) { out[j] = d[self.code(c.s, a + j)]; }
      } else if (c.t === 'name') {
        var heads = table(c.hd), tails = table(c.td), numbers = self.nameNumbers(key, c);
        for (j = 0; j < n; j++) {
          var head = heads[self.code(c.h, a + j)], number = numbers[a + j];
          out[j] = head === null ? null :
            head + (number ? String(number - 1) : '') + (tails[self.code(c.tl, a + j)] || '');
        }
      } else { return; }
      data[key] = out;
    });
    Object.keys(h.cols).forEach(function (key) {  // columns given by a rule on another
      var c = h.cols[key];
      if (c.t === 'flag') { data[key] = data[c.of].map(function (v) { return v === 1 ? 1 : 0; }); }
    });
    return {n: n, lon: lon, lat: lat, data: data};
  };
  G.Packed = Packed;

  function ByCell(spec, group) {
    var codes = spec.byCell.codes;
    this.spec = spec; this.group = group; this.loaded = {}; this.pinned = {}; this.index = {};
    this.markerCache = {};
    for (var k = 0; k < codes.length; k++) { this.index[codes[k]] = k; }
  }
  /* The markers of chunk k, decoded once. */
  ByCell.prototype.markers = function (k) {
    if (this.markerCache[k]) { return this.markerCache[k]; }
    var c = this.spec.byCell.units.chunk(k), sub = Object.create(this.spec), i;
    sub.data = c.data; sub.n = c.n;
    var code = this.spec.byCell.codes[k] || null;
    sub.data.cell_code = new Array(c.n).fill(code);  // one cell's chunk: one code
    var out = new Array(c.n);
    for (i = 0; i < c.n; i++) {
      var layer = L.circleMarker([c.lat[i], c.lon[i]], pathStyle(sub, i));
      layer._gmSpec = sub; layer._gmIndex = i; out[i] = layer;
    }
    this.markerCache[k] = out;
    return out;
  };
  ByCell.prototype.show = function (k) {
    if (this.loaded[k]) { return; }
    this.loaded[k] = true;
    var group = this.group;
    this.markers(k).forEach(function (m) { group.addLayer(m); });
  };
  ByCell.prototype.hide = function (k) {
    var group = this.group;
    this.markers(k).forEach(function (m) { group.removeLayer(m); });
    delete this.loaded[k];
  };
  /* Chunks of the cells in view (when zoomed in), and the pinned ones. */
  ByCell.prototype.wanted = function (map) {
    var want = {}, cells = G.specs.cells, g = cells && cells._geom, k;
    if (map.getZoom() >= this.spec.byCell.zoom && g && g.done && cells.data.code) {
      var b = map.getBounds(), bb = g.bbox, codes = cells.data.code;
      var x0 = (b.getWest() + 180) / 360, x1 = (b.getEast() + 180) / 360;
      var y0 = mercY(b.getNorth()), y1 = mercY(b.getSouth());
      for (var i = 0; i < g.n; i++) {
        if (bb[4 * i + 2] < x0 || bb[4 * i] > x1 || bb[4 * i + 3] < y0 || bb[4 * i + 1] > y1) {
          continue;
        }
        k = this.index[codes[i]];
        if (k !== undefined) { want[k] = true; }
      }
      if (this.index[''] !== undefined) { want[this.index['']] = true; }  // units in no cell
    }
    for (k in this.pinned) { if (this.pinned.hasOwnProperty(k)) { want[k] = true; } }
    return want;
  };
  ByCell.prototype.update = function () {
    var map = this.group._map, k;
    if (!map) { return; }
    var want = this.wanted(map);
    for (k in this.loaded) { if (this.loaded.hasOwnProperty(k) && !want[k]) { this.hide(+k); } }
    for (k in want) { if (want.hasOwnProperty(k)) { this.show(+k); } }
    this.shown = Object.keys(this.loaded).length;
  };
  /* A clicked cell keeps its units drawn at any zoom. */
  ByCell.prototype.pin = function (cellIndex) {
    var k = this.index[G.specs.cells.data.code[cellIndex]];
    if (k === undefined) { return; }
    this.pinned[k] = true;
    if (this.group._map) { this.show(k); this.shown = Object.keys(this.loaded).length; }
  };
  /* base64 of gzip -> bytes, with the browser's own DecompressionStream. */
  function inflate(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer();
  }
  function byCellJob(spec, group) {
    var state = 'start';
    return function () {
      if (state === 'start') {
        state = 'inflating'; G.waiting = true;
        var done = function (units) {
          if (units) { spec.byCell.units = units; spec.byCell.codes = units.codes; }
          spec.byCell.bin = null; state = units ? 'ready' : 'failed';
          G.waiting = false; later(run);
        };
        inflate(spec.byCell.bin).then(function (buffer) { return new Packed(buffer); })
          .then(done, function () { done(null); });
        return false;
      }
      if (state === 'inflating') { return false; }
      if (state === 'failed') { return true; }
      var loader = G.byCell = new ByCell(spec, group);
      G.map.on('moveend', loader.update, loader);
      group.on('add', loader.update, loader);
      loader.update();
      return true;
    };
  }

  function finish() {
    G.ready = true;
    G.readyMs = now() - G.t0;
    if (G.map) { G.map.fire('gridmap:ready'); }
    document.documentElement.setAttribute('data-gridmap-ready', '1');
  }

  function run() {
    var deadline = now() + BUDGET;
    while (queue.length) {
      if (!queue[0](deadline)) {
        if (!G.waiting) { later(run); }  // else the job that waits calls run again
        return;
      }
      queue.shift();
      if (now() > deadline) { later(run); return; }
    }
    finish();
  }

  /* Register one data layer; its columns and features are decoded by G.start in
   * slices of a few milliseconds so a page with 100k cells stays responsive. */
  G.addLayer = function (map, layer, spec, words, bodyId) {
    G.map = map;
    spec.data = {};
    spec.words = words;
    G.specs[spec.id] = spec;
    G.layers[spec.id] = layer;
    if (bodyId) { queue.push(bodyJob(spec, bodyId)); }
    queue.push(decodeColumnsJob(spec));
    if (spec.type === 'polygon') {
      layer.setSpec(spec);
      queue.push(polygonJob(spec));
    } else {
      if (spec.fields.length && spec.style.interactive !== false) {
        layer.bindPopup(popupNode, {maxWidth: 360});
        if (spec.tooltip.length) { layer.bindTooltip(tooltipNode, {sticky: true}); }
      }
      var job = null;  // which one is known once the data block is read (spec.byCell)
      queue.push(function (deadline) {
        job = job || (spec.byCell ? byCellJob : pointJob)(spec, layer);
        return job(deadline);
      });
    }
  };

  G.start = function () { later(run); };

  /* ---- search over the decoded attribute columns (no layer objects needed) ---- */
  var SEARCH_LIMIT = 50;
  function searchKeys(spec) {
    if (!spec._keys) {
      var keys = new Array(spec.n), lower = new Array(spec.n), seen = {};
      var cols = spec.search.map(function (k) { return spec.data[k] || []; });
      for (var i = 0; i < spec.n; i++) {
        var parts = [];
        for (var c = 0; c < cols.length; c++) {
          var v = cols[c][i];
          if (v !== null && v !== undefined && v !== '') { parts.push(v); }
        }
        if (!parts.length) { continue; }
        var base = parts.join(' '), key = base;
        if (seen[base]) { key = base + ' (' + (seen[base] + 1) + ')'; }  // keys must be unique
        seen[base] = (seen[base] || 0) + 1;
        keys[i] = key; lower[i] = key.toLowerCase();
      }
      spec._keys = keys; spec._lower = lower;
    }
    return spec;
  }
  /* leaflet-search sourceData: the first matches (substring, any case) of every layer. */
  G.searchSource = function (text, respond) {
    var needle = String(text).toLowerCase(), out = [];
    if (G.ready) {
      Object.keys(G.specs).forEach(function (id) {
        var spec = G.specs[id];
        if (!spec.search.length || out.length >= SEARCH_LIMIT) { return; }
        var lower = searchKeys(spec)._lower;
        for (var i = 0; i < lower.length && out.length < SEARCH_LIMIT; i++) {
          if (lower[i] !== undefined && lower[i].indexOf(needle) >= 0) { out.push([spec, i]); }
        }
      });
    }
    respond(out);
  };
  /* leaflet-search formatData: {key: latlng}, the latlng carrying what openFound needs. */
  G.searchFormat = function (found) {
    var records = {};
    found.forEach(function (hit) {
      var spec = hit[0], i = hit[1], latlng;
      if (spec.type === 'polygon') {
        latlng = spec._geom.labelPoint(i);
      } else {
        latlng = L.latLng(spec.feats[i].getLatLng());
      }
      latlng.layer = {_gmSpec: spec, _gmIndex: i, feature: spec.feats ? spec.feats[i] : null};
      records[spec._keys[i]] = latlng;
    });
    return records;
  };

  /* Open the popup of a feature found by the search control. */
  G.openFound = function (map, ref, latlng) {
    if (!ref || ref._gmSpec === undefined) { return; }
    var spec = ref._gmSpec, i = ref._gmIndex, feature = ref.feature || null;
    var show = function () {
      L.popup({maxWidth: 360}).setLatLng(feature ? feature.getLatLng() : latlng)
        .setContent(popupAt(spec, i)).openOn(map);
    };
    var group = G.layers[spec.id];
    if (feature && group && group.zoomToShowLayer) { group.zoomToShowLayer(feature, show); } else { show(); }
  };

  /* leaflet-search writes tips with innerHTML unless buildTip is given. */
  G.searchTip = function (text) {
    var a = document.createElement('a');
    a.textContent = text;
    return a;
  };

  /* Outline of a polygon spec for the minimap (no tiles when the basemap is none). */
  G.outlineLayer = function (id) {
    var spec = G.specs[id];
    if (!spec) { return L.layerGroup(); }
    return G.polygonLayer().setSpec(spec, {color: '#333', weight: 1, fill: false,
      interactive: false});
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
