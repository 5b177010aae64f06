(function () {
"use strict";
var PM = window.PlannerMap = {maps: [], groups: {}, drawnMs: null, marks: []};
function mark(what) { if (window.performance) { PM.marks.push([what, performance.now()]); } }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
}
function fmt(cfg, x, digits) {
  if (x === null || x === undefined || isNaN(x)) { return "\u2014"; }
  digits = digits || 0;
  return Number(x).toLocaleString(cfg.locale,
    {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
function card(title, rows) {
  var d = el("div", "pm-pop");
  d.appendChild(el("div", "pm-pop-title", title));
  var t = el("table");
  for (var k = 0; k < rows.length; k++) {
    var tr = el("tr");
    if (rows[k].length === 1) {  // a section heading
      var th = el("th", "pm-sec", rows[k][0]);
      th.colSpan = 2;
      tr.appendChild(th);
    } else {
      tr.appendChild(el("th", null, rows[k][0]));
      tr.appendChild(el("td", rows[k][2] || null, rows[k][1]));
    }
    t.appendChild(tr);
  }
  d.appendChild(t);
  return d;
}
function verdict(cfg, flag) {
  if (flag === "1") { return ["\u2713 " + cfg.t.pass, "pm-ok"]; }
  if (flag === "0") { return ["\u2717 " + cfg.t.fail, "pm-bad"]; }
  return [cfg.t.not_checked, "pm-na"];
}
function ratioClass(cfg, r) {
  if (r === null || r === undefined || isNaN(r)) { return -1; }
  var b = cfg.ratioBreaks;
  for (var k = 0; k < b.length; k++) { if (r < b[k] * cfg.required) { return k; } }
  return b.length;
}
function ratioColour(cfg, r) {
  var c = ratioClass(cfg, r);
  return c < 0 ? cfg.noData : cfg.ratioColours[c];
}
PM.init = function (map, cfg) {
  mark("init");
  map._pm = {cfg: cfg, pickers: []};
  PM.maps.push(map);
  var box = map.getContainer();
  box.classList.add("pm-map");
  if (cfg.plain) { box.classList.add("pm-plain"); }
  map.attributionControl.addAttribution(cfg.osm);
  L.control.scale({imperial: false, maxWidth: 160, position: "bottomright"}).addTo(map);
  // One dispatcher for the canvas layers: the click goes to the topmost layer with something
  // under the pointer (residences before communities); else on to Leaflet as usual.
  box.addEventListener("click", function (e) { PM.pick(map, e); }, true);
  box.addEventListener("mousemove", function (e) { PM.hover(map, e); }, true);
};
function skipEvent(map, e) {
  if (map.dragging && map.dragging.moved()) { return true; }
  var t = e.target;
  return !!(t && t.closest &&
    t.closest(".leaflet-control, .leaflet-popup, .leaflet-marker-icon, .leaflet-tooltip"));
}
function pickAt(map, point) {
  var pickers = map._pm.pickers.slice().sort(function (a, b) {
    return b.options.prio - a.options.prio;
  });
  for (var k = 0; k < pickers.length; k++) {
    var hit = pickers[k].hit(point);
    if (hit >= 0) { return [pickers[k], hit]; }
  }
  return null;
}
PM.pick = function (map, e) {
  if (skipEvent(map, e)) { return; }
  var point = map.mouseEventToContainerPoint(e);
  var found = pickAt(map, point);
  if (!found) { return; }
  e.stopImmediatePropagation();
  e.preventDefault();
  found[0].pick(found[1], map.containerPointToLatLng(point));
};
PM.hover = function (map, e) {
  var pm = map._pm;
  if (pm.pending || skipEvent(map, e)) { return; }
  pm.pending = true;
  var point = map.mouseEventToContainerPoint(e);
  L.Util.requestAnimFrame(function () {
    pm.pending = false;
    var over = pickAt(map, point) !== null;
    if (over !== !!pm.hovering) {
      pm.hovering = over;
      map.getContainer().style.cursor = over ? "pointer" : "";
    }
  });
};
PM.group = function (map, group, key) {
  PM.groups[key] = group;
  group._pmKey = key;
};
PM.lazy = function (group, build) {
  var built = false;
  function run() { if (!built) { built = true; build(); } }
  group.on("add", run);
  group._pmBuild = run;
};
// Large data sit in <script type="application/json"> blocks: JSON.parse is fast, and a layer
// that starts hidden parses its data only when first shown.
var cache = {};
PM.data = function (id) {
  if (!(id in cache)) {
    cache[id] = JSON.parse(document.getElementById(id).textContent);
    mark("parsed " + id);
  }
  return cache[id];
};

// Residences: one canvas, all points of a style drawn as one path (100,000 points stay fast),
// hit-tested on click by distance in pixels. Styles are drawn in order, so gaps lie on top.
var TAU = 2 * Math.PI;
var MAX_LAT = 85.0511287798;
function mercX(lon) { return (lon + 180) / 360; }
function mercY(lat) {
  var s = Math.sin(Math.max(Math.min(lat, MAX_LAT), -MAX_LAT) * Math.PI / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}
// Lines sent as delta-coded integer microdegrees (first vertex x0/y0, a (dx, dy) pair per vertex,
// the first (0, 0); n = vertices per line): Mercator x, y per vertex (world width 1) and where
// each line's vertices start.
function decodeLines(d) {
  var dd = d.d, nv = dd.length / 2, x = d.x0, y = d.y0, i;
  var mx = new Float64Array(nv), my = new Float64Array(nv);
  for (i = 0; i < nv; i++) {
    x += dd[2 * i];
    y += dd[2 * i + 1];
    mx[i] = mercX(x / 1e6);
    my[i] = mercY(y / 1e6);
  }
  var nl = d.n.length, start = new Int32Array(nl + 1);
  for (i = 0; i < nl; i++) { start[i + 1] = start[i] + d.n[i]; }
  return {mx: mx, my: my, start: start};
}
function mercator(d) {
  if (d._mx) { return; }
  var n = d.lat.length;
  d._mx = new Float64Array(n);
  d._my = new Float64Array(n);
  for (var i = 0; i < n; i++) { d._mx[i] = mercX(d.lon[i]); d._my[i] = mercY(d.lat[i]); }
}
// A layer drawn on its own canvas, redrawn after every move or zoom (and scaled during a zoom
// animation as Leaflet's renderers are). Canvases of a pane are kept in rank order.
var CanvasLayer = L.Layer.extend({
  options: {pane: "pmPoints", zIndex: 450, padding: 0.3, rank: 0, prio: 0},
  onAdd: function (map) {
    this._prepare();
    var pane = map.getPane(this.options.pane);
    if (!pane) {
      pane = map.createPane(this.options.pane);
      pane.style.zIndex = this.options.zIndex;
      pane.style.pointerEvents = "none";
    }
    this._canvas = L.DomUtil.create("canvas", "pm-canvas");
    this._canvas.setAttribute("data-rank", this.options.rank);
    if (map.options.zoomAnimation && L.Browser.any3d) {
      L.DomUtil.addClass(this._canvas, "leaflet-zoom-animated");
    }
    var before = null;
    for (var c = pane.firstChild; c; c = c.nextSibling) {
      if (Number(c.getAttribute("data-rank")) > this.options.rank) { before = c; break; }
    }
    pane.insertBefore(this._canvas, before);
    this._ctx = this._canvas.getContext("2d");
    if (this.pick) { map._pm.pickers.push(this); }
    this._reset();
  },
  onRemove: function (map) {
    L.DomUtil.remove(this._canvas);
    var pickers = map._pm.pickers, at = pickers.indexOf(this);
    if (at >= 0) { pickers.splice(at, 1); }
  },
  getEvents: function () {
    return {viewreset: this._reset, moveend: this._reset, resize: this._reset,
      zoomanim: this._onAnimZoom, zoom: this._onZoom};
  },
  _onAnimZoom: function (e) { this._transform(e.center, e.zoom); },
  _onZoom: function () { this._transform(this._map.getCenter(), this._map.getZoom()); },
  _transform: function (center, zoom) {
    var map = this._map;
    var scale = map.getZoomScale(zoom, this._zoom);
    var half = map.getSize().multiplyBy(0.5 + this.options.padding);
    var offset = half.multiplyBy(-scale).add(map.project(this._center, zoom))
      .subtract(map._getNewPixelOrigin(center, zoom));
    L.DomUtil.setTransform(this._canvas, offset, scale);
  },
  _reset: function () {
    var map = this._map, p = this.options.padding, size = map.getSize();
    var min = map.containerPointToLayerPoint(size.multiplyBy(-p)).round();
    var w = Math.round(size.x * (1 + 2 * p)), h = Math.round(size.y * (1 + 2 * p));
    var ratio = L.Browser.retina ? 2 : 1;
    this._min = min;
    this._w = w;
    this._h = h;
    this._center = map.getCenter();
    this._zoom = map.getZoom();
    L.DomUtil.setPosition(this._canvas, min);
    this._canvas.width = w * ratio;
    this._canvas.height = h * ratio;
    this._canvas.style.width = w + "px";
    this._canvas.style.height = h + "px";
    var origin = map.getPixelOrigin();
    // canvas pixel = mercator * scale - (ox, oy)
    this._scale = map.options.crs.scale(this._zoom);
    this._ox = origin.x + min.x;
    this._oy = origin.y + min.y;
    this._ratio = ratio;
    this._draw(this._ctx);
  },
  _canvasPoint: function (point) {  // a container point in canvas pixels
    var lp = this._map.containerPointToLayerPoint(point);
    return [lp.x - this._min.x, lp.y - this._min.y];
  }
});

// Residences: all points of a style are one path (100,000 points stay fast); styles are
// drawn in order, so gaps lie on top. A click is hit-tested by distance in pixels.
var PointLayer = CanvasLayer.extend({
  options: {pane: "pmPoints", zIndex: 450, prio: 10},
  initialize: function (d, styles, styleOf, order, onPick) {
    this._d = d;
    this._styles = styles;
    this._styleOf = styleOf;
    this._order = order;
    this._onPick = onPick;
    this._byStyle = null;
  },
  _prepare: function () {
    if (this._byStyle) { return; }
    var d = this._d, n = d.lat.length, counts = [], k, s;
    mercator(d);
    for (k = 0; k < this._styles.length; k++) { counts.push(0); }
    for (k = 0; k < n; k++) { counts[this._styleOf(k)] += 1; }
    this._byStyle = counts.map(function (c) { return new Int32Array(c); });
    var fill = counts.map(function () { return 0; });
    for (k = 0; k < n; k++) { s = this._styleOf(k); this._byStyle[s][fill[s]++] = k; }
    this._px = new Float32Array(n);
    this._py = new Float32Array(n);
  },
  // One small pre-drawn bitmap per style, stamped at every point: far cheaper to paint than
  // 100,000 anti-aliased arcs (a canvas records its paths and paints them at the next frame).
  // Zoomed out, points shrink so that dense districts stay readable.
  _sizeFactor: function () { return this._zoom >= 16 ? 1 : (this._zoom >= 14 ? 0.8 : 0.6); },
  _sprite: function (st, ratio, factor) {
    var radius = st.radius * factor, weight = st.weight * (factor < 1 ? 0.7 : 1);
    var half = Math.ceil(radius + weight) + 1, size = 2 * half;
    var c = document.createElement("canvas");
    c.width = size * ratio;
    c.height = size * ratio;
    var g = c.getContext("2d");
    g.scale(ratio, ratio);
    g.beginPath();
    g.arc(half, half, radius, 0, TAU);
    g.globalAlpha = st.fillOpacity;
    g.fillStyle = st.fillColor;
    g.fill();
    if (weight > 0) {
      g.globalAlpha = st.opacity;
      g.lineWidth = weight;
      g.strokeStyle = st.color;
      g.stroke();
    }
    return {canvas: c, half: half, size: size};
  },
  _draw: function (ctx) {
    var d = this._d, n = d.lat.length, w = this._w, h = this._h, ratio = this._ratio;
    for (var i = 0; i < n; i++) {
      this._px[i] = d._mx[i] * this._scale - this._ox;
      this._py[i] = d._my[i] * this._scale - this._oy;
    }
    var factor = this._sizeFactor();
    if (!this._sprites || this._spriteKey !== ratio + "/" + factor) {
      this._sprites = this._styles.map(function (st) {
        return this._sprite(st, ratio, factor);
      }, this);
      this._spriteKey = ratio + "/" + factor;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    for (var o = 0; o < this._order.length; o++) {
      var sp = this._sprites[this._order[o]], idx = this._byStyle[this._order[o]];
      var half = sp.half, size = sp.size, img = sp.canvas;
      for (var k = 0; k < idx.length; k++) {
        var x = this._px[idx[k]], y = this._py[idx[k]];
        if (x < -half || y < -half || x > w + half || y > h + half) { continue; }
        ctx.drawImage(img, Math.round(x) - half, Math.round(y) - half, size, size);
      }
    }
  },
  hit: function (point) {  // the point drawn on top under a container point, or -1
    var c = this._canvasPoint(point), x = c[0], y = c[1];
    for (var o = this._order.length - 1; o >= 0; o--) {
      var idx = this._byStyle[this._order[o]];
      var r = this._styles[this._order[o]].radius * this._sizeFactor() + 2;
      for (var k = idx.length - 1; k >= 0; k--) {
        var dx = this._px[idx[k]] - x, dy = this._py[idx[k]] - y;
        if (dx <= r && dx >= -r && dy <= r && dy >= -r && dx * dx + dy * dy <= r * r) {
          return idx[k];
        }
      }
    }
    return -1;
  },
  pick: function (i) { this._onPick(i); },
  // For tests and tools: container points of a residence id, or of every residence.
  containerPointOf: function (ident) {
    var i = this._d.id.indexOf(ident);
    return i < 0 ? null : this._map.latLngToContainerPoint([this._d.lat[i], this._d.lon[i]]);
  },
  containerPoints: function () {
    var out = [], d = this._d;
    for (var i = 0; i < d.lat.length; i++) {
      out.push(this._map.latLngToContainerPoint([d.lat[i], d.lon[i]]));
    }
    return out;
  }
});

// Rings sent as delta-coded integer microdegrees ("PMRings": first vertex x0/y0, a (dx, dy) pair
// per vertex, the first (0, 0); n = vertices per ring, the closing vertex left out).
function unpackRings(g) {
  var rings = [], x = g.x0, y = g.y0, k = 0;
  for (var r = 0; r < g.n.length; r++) {
    var ring = [];
    for (var v = 0; v < g.n[r]; v++, k++) {
      x += g.d[2 * k];
      y += g.d[2 * k + 1];
      ring.push([x / 1e6, y / 1e6]);
    }
    rings.push(ring);
  }
  return rings;
}

// Polygons (walking bands, communities) from GeoJSON: each feature one Path2D per zoom level
// (vertices closer than half a pixel merged), filled even-odd so holes stay holes.
var PolygonLayer = CanvasLayer.extend({
  options: {pane: "pmPolygons", zIndex: 420, prio: 0},
  initialize: function (fc, styleOf, onPick, options) {
    L.setOptions(this, options);
    this._fc = fc;
    this._styleOf = styleOf;
    this._onPick = onPick;
    if (!onPick) { this.pick = null; }
    this._feats = null;
  },
  _prepare: function () {
    if (this._feats) { return; }
    var feats = [], x0 = Infinity, y0 = Infinity;
    var fs = this._fc.features;
    for (var f = 0; f < fs.length; f++) {
      var g = fs[f].geometry;
      if (!g) { continue; }
      var polys = g.type === "Polygon" ? [g.coordinates] :
        (g.type === "MultiPolygon" ? g.coordinates :
          (g.type === "PMRings" ? [unpackRings(g)] : []));
      var rings = [], box = [Infinity, Infinity, -Infinity, -Infinity];
      for (var p = 0; p < polys.length; p++) {
        for (var r = 0; r < polys[p].length; r++) {
          var ring = polys[p][r], flat = new Float64Array(ring.length * 2);
          for (var v = 0; v < ring.length; v++) {
            var mx = mercX(ring[v][0]), my = mercY(ring[v][1]);
            flat[2 * v] = mx;
            flat[2 * v + 1] = my;
            if (mx < box[0]) { box[0] = mx; }
            if (my < box[1]) { box[1] = my; }
            if (mx > box[2]) { box[2] = mx; }
            if (my > box[3]) { box[3] = my; }
          }
          rings.push(flat);
        }
      }
      x0 = Math.min(x0, box[0]);
      y0 = Math.min(y0, box[1]);
      feats.push({rings: rings, box: box, props: fs[f].properties, style: this._styleOf(fs[f])});
    }
    this._feats = feats;
    this._anchorM = [x0, y0];
    this._pathZoom = null;
  },
  _paths: function () {  // Path2D per feature in pixels from an anchor, for this zoom
    if (this._pathZoom === this._zoom) { return; }
    var scale = this._scale;
    var ax = Math.floor(this._anchorM[0] * scale), ay = Math.floor(this._anchorM[1] * scale);
    for (var f = 0; f < this._feats.length; f++) {
      // An SVG path string parsed once is faster than a lineTo call per vertex.
      var parts = [], rings = this._feats[f].rings;
      for (var r = 0; r < rings.length; r++) {
        var flat = rings[r], n = flat.length / 2, lx = 0, ly = 0;
        for (var v = 0; v < n; v++) {
          var x = flat[2 * v] * scale - ax, y = flat[2 * v + 1] * scale - ay;
          if (v > 0 && v < n - 1 && Math.abs(x - lx) < 0.5 && Math.abs(y - ly) < 0.5) { continue; }
          parts.push((v === 0 ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1));
          lx = x;
          ly = y;
        }
        parts.push("Z");
      }
      this._feats[f].path = new Path2D(parts.join(""));
    }
    this._anchor = [ax, ay];
    this._pathZoom = this._zoom;
  },
  _draw: function (ctx) {
    this._paths();
    var ratio = this._ratio, w = this._w, h = this._h, scale = this._scale;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(ratio, 0, 0, ratio, (this._anchor[0] - this._ox) * ratio,
      (this._anchor[1] - this._oy) * ratio);
    for (var f = 0; f < this._feats.length; f++) {
      var ft = this._feats[f], st = ft.style, b = ft.box;
      if (b[2] * scale - this._ox < 0 || b[0] * scale - this._ox > w ||
          b[3] * scale - this._oy < 0 || b[1] * scale - this._oy > h) { continue; }
      ctx.globalAlpha = st.fillOpacity;
      ctx.fillStyle = st.fillColor;
      ctx.fill(ft.path, "evenodd");
      ctx.globalAlpha = st.opacity;
      ctx.lineWidth = st.weight;
      ctx.strokeStyle = st.color;
      ctx.setLineDash(st.dash || []);
      ctx.stroke(ft.path);
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  },
  hit: function (point) {  // the feature drawn on top under a container point, or -1
    var c = this._canvasPoint(point);
    var x = c[0] + this._ox - this._anchor[0], y = c[1] + this._oy - this._anchor[1];
    var ctx = this._ctx;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    var found = -1;
    for (var f = this._feats.length - 1; f >= 0; f--) {
      if (ctx.isPointInPath(this._feats[f].path, x, y, "evenodd")) { found = f; break; }
    }
    ctx.restore();
    return found;
  },
  pick: function (f, latlng) { this._onPick(this._feats[f].props, latlng); }
});
// The walking network: polylines as delta-coded microdegrees, grouped by 1 km cells and, in a
// cell, by class (paths, streets, main roads). A cell has one Path2D per class, built for an
// integer zoom level when first drawn (vertices closer than half a pixel merged) and scaled for
// the fractional zoom levels below it; a class is hidden below its minZoom.
var NetworkLayer = CanvasLayer.extend({
  options: {pane: "pmNetwork", zIndex: 410, prio: 0},
  initialize: function (d, styles) {
    this._d = d;
    this._styles = styles;
    this._cells = null;
  },
  _prepare: function () {
    if (this._cells) { return; }
    var d = this._d, lines = decodeLines(d), mx = lines.mx, my = lines.my, start = lines.start;
    var cells = [], line = 0, nc = this._styles.length;
    for (var c = 0; c < d.cells.length; c++) {
      var end = line + d.cells[c], box = [Infinity, Infinity, -Infinity, -Infinity];
      var ranges = [];
      for (var k = 0; k < nc; k++) { ranges.push([0, 0]); }
      for (var l = line; l < end; l++) {
        var cls = d.c.charCodeAt(l) - 48;
        if (ranges[cls][1] === 0) { ranges[cls][0] = l; }
        ranges[cls][1] = l + 1;
        for (var v = start[l]; v < start[l + 1]; v++) {
          if (mx[v] < box[0]) { box[0] = mx[v]; }
          if (my[v] < box[1]) { box[1] = my[v]; }
          if (mx[v] > box[2]) { box[2] = mx[v]; }
          if (my[v] > box[3]) { box[3] = my[v]; }
        }
      }
      cells.push({box: box, ranges: ranges, z: null, paths: [], anchor: null});
      line = end;
    }
    this._mx = mx;
    this._my = my;
    this._start = start;
    this._cells = cells;
  },
  _cellPath: function (cell, k, z) {  // Path2D of class k in pixels of zoom z, from an anchor
    var scale = this._map.options.crs.scale(z);
    if (cell.z !== z) {
      cell.z = z;
      cell.paths = [];
      cell.anchor = [Math.floor(cell.box[0] * scale), Math.floor(cell.box[1] * scale)];
    }
    if (cell.paths[k] === undefined) {
      var mx = this._mx, my = this._my, st = this._start, ax = cell.anchor[0], ay = cell.anchor[1];
      var parts = [], r = cell.ranges[k];
      for (var l = r[0]; l < r[1]; l++) {
        var a = st[l], b = st[l + 1], lx = 0, ly = 0;
        for (var v = a; v < b; v++) {
          var px = mx[v] * scale - ax, py = my[v] * scale - ay;
          if (v > a && v < b - 1 && Math.abs(px - lx) < 0.5 && Math.abs(py - ly) < 0.5) {
            continue;
          }
          parts.push((v === a ? "M" : "L") + px.toFixed(1) + " " + py.toFixed(1));
          lx = px;
          ly = py;
        }
      }
      cell.paths[k] = parts.length ? new Path2D(parts.join("")) : null;
    }
    return cell.paths[k];
  },
  _widthFactor: function () { return this._zoom >= 16 ? 1 : (this._zoom >= 14 ? 0.75 : 0.5); },
  _draw: function (ctx) {
    var ratio = this._ratio, w = this._w, h = this._h, scale = this._scale;
    var z = Math.min(Math.ceil(this._zoom - 1e-6), 22);
    var f = scale / this._map.options.crs.scale(z), wf = this._widthFactor(), m = 4;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (var k = 0; k < this._styles.length; k++) {
      var s = this._styles[k];
      if (this._zoom < s.minZoom) { continue; }
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.weight * wf / f;
      for (var c = 0; c < this._cells.length; c++) {
        var cell = this._cells[c], b = cell.box;
        if (cell.ranges[k][1] === 0 ||
            b[2] * scale - this._ox < -m || b[0] * scale - this._ox > w + m ||
            b[3] * scale - this._oy < -m || b[1] * scale - this._oy > h + m) { continue; }
        var path = this._cellPath(cell, k, z);
        if (!path) { continue; }
        ctx.setTransform(ratio * f, 0, 0, ratio * f, (cell.anchor[0] * f - this._ox) * ratio,
          (cell.anchor[1] * f - this._oy) * ratio);
        ctx.stroke(path);
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }
});
PM.PointLayer = PointLayer;
PM.PolygonLayer = PolygonLayer;
PM.NetworkLayer = NetworkLayer;
var STATUS_RADIUS = [3.5, 5, 6.5, 3.5];
var STATUS_ORDER = [0, 3, 1, 2];  // covered, off network, partly, uncovered (gaps on top)
PM.residences = function (map, group, dataId, mode) {
  var cfg = map._pm.cfg;
  var styles = [], order = [], styleOf, d = null;
  if (mode === "status") {
    for (var s = 0; s < cfg.statusColours.length; s++) {
      var gap = s === 1 || s === 2;
      styles.push({radius: STATUS_RADIUS[s], fillColor: cfg.statusColours[s], fillOpacity: 0.9,
        color: gap ? (s === 2 ? "#4a0000" : "#6b3d00") : "#ffffff",
        weight: gap ? 1.4 : 0.6, opacity: 0.9});
    }
    order = STATUS_ORDER;
    styleOf = function (i) { return d.st.charCodeAt(i) - 48; };
  } else {
    var colours = cfg.ratioColours.concat([cfg.noData]);
    for (var c = 0; c < colours.length; c++) {
      styles.push({radius: 4, fillColor: colours[c], fillOpacity: 0.9, color: "#ffffff",
        weight: 0.6, opacity: 0.9});
      order.unshift(c);  // "not allocated" at the bottom, the shortest supply on top
    }
    styleOf = function (i) {
      var cl = ratioClass(cfg, d.fa ? d.fa[i] : null);
      return cl < 0 ? styles.length - 1 : cl;
    };
  }
  function popup(i) {
    var t = cfg.t;
    var rows = [];
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    rows.push([t.id, d.id[i]]);
    if (d.hh) {
      var hh = fmt(cfg, d.hh[i], d.hh[i] % 1 === 0 ? 0 : 1);
      if (d.est && d.est.charAt(i) === "1") { hh += " (" + t.estimate + ")"; }
      rows.push([t.households, hh]);
    }
    var st = d.st.charCodeAt(i) - 48;
    var stCls = st === 0 ? "pm-ok" : (st === 3 ? "pm-na" : "pm-bad");
    rows.push([t.status, t[cfg.statuses[st]], stCls]);
    var measured = [];
    for (var k = 0; k < d.rules.length; k++) {
      var rule = d.rules[k];
      var into = rule.req ? rows : measured;
      var w = rule.walk[i];
      var cov = rule.cov.charAt(i);
      var text;
      if (w === null) { text = t.unreachable; }
      else {
        text = fmt(cfg, w, 0) + " " + t.m + " \u00b7 " + fmt(cfg, w / cfg.mPerMin, 1) + " " + t.min;
        if (cov === "0" && rule.max !== null) {
          text += " (" + t.short_by + " " + fmt(cfg, w - rule.max, 0) + " " + t.m + ")";
        }
      }
      var mark = cov === "1" ? "\u2713 " : (cov === "0" ? "\u2717 " : "");
      var cls = cov === "1" ? null : (cov === "0" ? (rule.req ? "pm-bad" : "pm-warn") : "pm-na");
      into.push([rule.label, mark + text, cls]);
    }
    if (d.fa) {
      var v = verdict(cfg, d.faok ? d.faok.charAt(i) : "-");
      var r = d.fa[i];
      rows.push([t.m2_per_100hh, r === null ? t.not_checked :
        fmt(cfg, r, 1) + " " + t.m2_per_100hh_unit + "  " + v[0], r === null ? "pm-na" : v[1]]);
    }
    if (measured.length) { rows.push([t.measured_title]); rows = rows.concat(measured); }
    return card(title, rows);
  }
  function open(i) {
    L.popup({maxWidth: 360}).setLatLng([d.lat[i], d.lon[i]]).setContent(popup(i)).openOn(map);
  }
  function build() {
    d = PM.data(dataId);
    var layer = new PointLayer(d, styles, styleOf, order, open);
    group._pmPoints = layer;
    group.addLayer(layer);
    mark("residences " + mode);
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.facilities = function (map, group, d) {
  var cfg = map._pm.cfg;
  var t = cfg.t;
  function popup(i) {
    var rows = [];
    rows.push([t.category, d.label]);
    if (d.fa) {
      rows.push([t.floor_area, d.fa[i] === null ? "\u2014" : fmt(cfg, d.fa[i], 0) + " " + t.m2]);
    }
    if (d.hh) { rows.push([t.hh_in_catchment, fmt(cfg, d.hh[i], 0)]); }
    if (d.r) {
      rows.push([t.m2_per_100hh,
        d.r[i] === null ? "\u2014" : fmt(cfg, d.r[i], 1) + " " + t.m2_per_100hh_unit]);
    }
    if (d.ok) { var v = verdict(cfg, d.ok.charAt(i)); rows.push([t.floor_area_check, v[0], v[1]]); }
    if (d.prop && d.prop.charAt(i) === "1") { rows.push(["", t.proposed, "pm-na"]); }
    if (d.on && d.on.charAt(i) === "0") { rows.push(["", t.facility_off_network, "pm-bad"]); }
    rows.push([t.id, d.id[i]]);
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    return card(title, rows);
  }
  var size = 22;
  for (var i = 0; i < d.lat.length; i++) {
    var box = el("div", "pm-fac", d.glyph);
    box.style.background = d.colour;
    box.style.width = size + "px";
    box.style.height = size + "px";
    if (d.prop && d.prop.charAt(i) === "1") { box.className += " pm-proposed"; }
    if (d.ok && d.ok.charAt(i) === "0") { box.className += " pm-facfail"; }
    if (d.on && d.on.charAt(i) === "0") { box.className += " pm-off"; }
    var icon = L.divIcon({html: box, className: "pm-fac-icon", iconSize: [size, size]});
    var mk = L.marker([d.lat[i], d.lon[i]], {icon: icon, riseOnHover: true});
    mk._pmi = i;
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    mk.bindTooltip(el("span", null, title), {direction: "top", offset: [0, -10]});
    mk.bindPopup((function (k) { return function () { return popup(k); }; })(i), {maxWidth: 360});
    group.addLayer(mk);
  }
};
PM.isochrones = function (map, group, dataId, colour) {
  function build() {
    var fc = PM.data(dataId);
    var n = fc.features.length;
    group.addLayer(new PolygonLayer(fc, function (f) {
      var k = f.properties.k;
      return {color: colour, weight: 1.2, opacity: 0.75, fillColor: colour,
        fillOpacity: 0.10 + 0.06 * (n - 1 - k), dash: k === n - 1 ? [4, 3] : null};
    }, null, {rank: 1}));
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
// Walking bands from the reached street pieces ("PMLines", planner/maps/band_layer.py): a line
// stroked with round caps and joins 2 x buffer_m wide is exactly its buffer. Each band is
// stroked opaque into an offscreen canvas (so overlaps do not darken), laid on the map with the
// band's alpha once; a 1.2 px wider stroke, less the band, is its outline (drawn where the band
// is at least 4 px wide). Bands nest: the larger band's strokes go on top of the smaller's.
// Lines are grouped in square Mercator cells of about 256 px at the integer zoom drawn (~600 m
// from zoom 16 on), one Path2D per cell, band and integer zoom, built with moveTo/lineTo when
// first drawn (the paths of the level last drawn are kept) and scaled for the fractional zooms
// below it. A path leaves a vertex out only where the chord drawn instead passes within
// BAND_EPS_PX of every vertex it skips: the drawn line is then within that distance of the real
// one both ways (the chord's points of the line's, by continuity; the line's of the chord, a
// segment's distance to a segment being largest at its ends), so the drawn area is the exact
// one to a quarter pixel at every zoom.
var EARTH_M = 2 * Math.PI * 6378137;
var BAND_MAX_LEVEL = 16;  // cells per world width: 2^level, zoom level or at most 2^16 (~600 m)
var BAND_EPS_PX = 0.25;
var BAND_RUN = 16;  // at most this many vertices skipped in a row (each skip checks them all)
var bandCanvases = null;  // offscreen canvases shared by every band layer
function offscreen(w, h) {
  if (!bandCanvases) {
    bandCanvases = [0, 1, 2].map(function () { return document.createElement("canvas"); });
  }
  for (var i = 0; i < 3; i++) {
    var c = bandCanvases[i];
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  }
  return bandCanvases;
}
// Squared distance from (px, py) to the segment (x0, y0)-(x1, y1).
function segmentDist2(px, py, x0, y0, x1, y1) {
  var dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  var t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
  t = t < 0 ? 0 : (t > 1 ? 1 : t);
  var ex = x0 + t * dx - px, ey = y0 + t * dy - py;
  return ex * ex + ey * ey;
}
var BandLayer = CanvasLayer.extend({
  options: {pane: "pmPolygons", zIndex: 420, rank: 1, prio: 0, line: 1.2, lineOpacity: 0.75},
  initialize: function (d, colour, options) {
    L.setOptions(this, options);
    this._d = d;
    this._colour = colour;
    this._lines = null;
  },
  _prepare: function () {
    if (!this._lines) {
      this._lines = decodeLines(this._d);
      this._levels = {};
    }
  },
  // Per band, its cells at a level: the lines it adds to the smaller band (bands nest) and its
  // loose lines, grouped by the cell of their first vertex, with their bounding box.
  _cells: function (level) {
    if (this._level !== undefined && this._level !== level) {  // one level's paths kept
      this._levels[this._level].forEach(function (cells) {
        cells.forEach(function (c) { c.z = null; c.path = null; });
      });
    }
    this._level = level;
    if (this._levels[level]) { return this._levels[level]; }
    var d = this._d, mx = this._lines.mx, my = this._lines.my, st = this._lines.start;
    var n = Math.pow(2, level), bands = [];
    for (var k = 0; k < d.w.length; k++) {
      var byCell = new Map(), cells = [], i, l;
      var ranges = [[d.nested && k > 0 ? d.w[k - 1] : 0, d.w[k]], d.e[k]];
      for (var r = 0; r < 2; r++) {
        for (l = ranges[r][0]; l < ranges[r][1]; l++) {
          var key = Math.floor(my[st[l]] * n) * n + Math.floor(mx[st[l]] * n);
          var c = byCell.get(key);
          if (!c) {
            c = {lines: [], box: [Infinity, Infinity, -Infinity, -Infinity], z: null, path: null};
            byCell.set(key, c);
            cells.push(c);
          }
          c.lines.push(l);
          var b = c.box;
          for (var u = st[l]; u < st[l + 1]; u++) {
            if (mx[u] < b[0]) { b[0] = mx[u]; }
            if (my[u] < b[1]) { b[1] = my[u]; }
            if (mx[u] > b[2]) { b[2] = mx[u]; }
            if (my[u] > b[3]) { b[3] = my[u]; }
          }
        }
      }
      for (i = 0; i < cells.length; i++) {
        var cy = (cells[i].box[1] + cells[i].box[3]) / 2;
        var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * cy)));
        cells[i].mPerWorld = EARTH_M * Math.cos(lat);  // metres per world width at the cell
      }
      bands.push(cells);
    }
    this._levels[level] = bands;
    return bands;
  },
  _cellPath: function (cell, z) {  // Path2D of a cell's lines in pixels of zoom z, from an anchor
    if (cell.z === z) { return cell.path; }
    var scale = this._map.options.crs.scale(z), e2 = BAND_EPS_PX * BAND_EPS_PX;
    var mx = this._lines.mx, my = this._lines.my, st = this._lines.start;
    var ax = Math.floor(cell.box[0] * scale), ay = Math.floor(cell.box[1] * scale);
    var path = new Path2D();
    for (var j = 0; j < cell.lines.length; j++) {
      var l = cell.lines[j], a = st[l], last = st[l + 1] - 1, kept = a;
      var kx = mx[a] * scale - ax, ky = my[a] * scale - ay;
      path.moveTo(kx, ky);
      if (last === a) { continue; }
      for (var v = a + 1; v < last; v++) {  // v stays out if kept -> v + 1 passes near kept+1..v
        var nx = mx[v + 1] * scale - ax, ny = my[v + 1] * scale - ay, near = v - kept <= BAND_RUN;
        for (var u = kept + 1; near && u <= v; u++) {
          near = segmentDist2(mx[u] * scale - ax, my[u] * scale - ay, kx, ky, nx, ny) <= e2;
        }
        if (!near) {
          kept = v;
          kx = mx[v] * scale - ax;
          ky = my[v] * scale - ay;
          path.lineTo(kx, ky);
        }
      }
      path.lineTo(mx[last] * scale - ax, my[last] * scale - ay);
    }
    cell.z = z;
    cell.anchor = [ax, ay];
    cell.path = path;
    return path;
  },
  // Stroke every visible cell into g, `extra` CSS px wider than 2 x buffer_m.
  _stroke: function (g, cells, extra, z, f) {
    var ratio = this._ratio, w = this._w, h = this._h, scale = this._scale;
    var buf = this._d.buffer_m;
    for (var c = 0; c < cells.length; c++) {
      var cell = cells[c], b = cell.box, half = buf * scale / cell.mPerWorld + extra;
      if (b[2] * scale - this._ox < -half || b[0] * scale - this._ox > w + half ||
          b[3] * scale - this._oy < -half || b[1] * scale - this._oy > h + half) { continue; }
      var path = this._cellPath(cell, z);
      g.lineWidth = 2 * half / f;
      g.setTransform(ratio * f, 0, 0, ratio * f, (cell.anchor[0] * f - this._ox) * ratio,
        (cell.anchor[1] * f - this._oy) * ratio);
      g.stroke(path);
    }
  },
  _draw: function (ctx) {
    var W = this._canvas.width, H = this._canvas.height, n = this._d.w.length, d = this._d;
    var z = Math.min(Math.ceil(this._zoom - 1e-6), 22);
    var f = this._scale / this._map.options.crs.scale(z);
    var bands = this._cells(Math.max(0, Math.min(z, BAND_MAX_LEVEL)));
    // The outline only where the band is wide enough on screen to need one.
    var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (this._oy + H / 2) / this._scale)));
    var ring = 2 * d.buffer_m * this._scale / (EARTH_M * Math.cos(lat)) >= 4;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var off = offscreen(W, H), gs = [], i;
    for (i = 0; i < 3; i++) {
      gs.push(off[i].getContext("2d"));
      gs[i].setTransform(1, 0, 0, 1, 0, 0);
      gs[i].globalCompositeOperation = "source-over";
      gs[i].clearRect(0, 0, W, H);
      gs[i].lineCap = "round";
      gs[i].lineJoin = "round";
      gs[i].strokeStyle = this._colour;
    }
    for (var k = 0; k < n; k++) {  // the smallest band first; alpha on one colour commutes
      if (!d.nested) {
        for (i = 0; i < 2; i++) { gs[i].setTransform(1, 0, 0, 1, 0, 0); gs[i].clearRect(0, 0, W, H); }
      }
      this._stroke(gs[0], bands[k], 0, z, f);
      ctx.globalAlpha = 0.10 + 0.06 * (n - 1 - k);
      ctx.drawImage(off[0], 0, 0);
      if (!ring) { continue; }
      this._stroke(gs[1], bands[k], this.options.line, z, f);
      gs[2].globalCompositeOperation = "copy";
      gs[2].setTransform(1, 0, 0, 1, 0, 0);
      gs[2].drawImage(off[1], 0, 0);
      gs[2].globalCompositeOperation = "destination-out";
      gs[2].drawImage(off[0], 0, 0);
      ctx.globalAlpha = this.options.lineOpacity;
      ctx.drawImage(off[2], 0, 0);
    }
    ctx.globalAlpha = 1;
    mark("drew bands");
  }
});
PM.BandLayer = BandLayer;
PM.bands = function (map, group, dataId, colour) {
  function build() { group.addLayer(new BandLayer(PM.data(dataId), colour)); }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
// Names shown from a zoom on (communities, sub-districts): divIcon markers in the group.
function zoomLabels(map, group, labels, minZoom, cls) {
  var layer = L.layerGroup();
  for (var k = 0; k < labels.length; k++) {
    var name = el("span", null, labels[k][2]);  // text, never markup
    layer.addLayer(L.marker([labels[k][0], labels[k][1]], {interactive: false, keyboard: false,
      icon: L.divIcon({className: cls, html: "", iconSize: null})}).bindTooltip(name,
      {permanent: true, direction: "center", className: cls + "-tip"}));
  }
  function update() {
    if (map.getZoom() >= minZoom) { group.addLayer(layer); } else { group.removeLayer(layer); }
  }
  map.on("zoomend", update);
  update();
}
PM.communities = function (map, group, dataId, rules, colours, labels, labelZoom) {
  var cfg = map._pm.cfg;
  var t = cfg.t;
  function pct(v) { return v === null || v === undefined ? "\u2014" : fmt(cfg, v * 100, 1) + " %"; }
  function popup(p) {
    var rows = [];
    if (p.sd) { rows.push([t.subdistrict, p.sd]); }
    rows.push([t.households, fmt(cfg, p.hh, 0)]);
    if (p.off) { rows.push([t.hh_off_network_comm, fmt(cfg, p.off, 0)]); }
    var vv = p.v === "no_households" ? [t.v_no_households, "pm-na"] :
      (p.v === "compliant" ? ["\u2713 " + t.v_compliant, "pm-ok"] : ["\u2717 " + t["v_" + p.v], "pm-bad"]);
    rows.push([t.verdict, vv[0], vv[1]]);
    for (var k = 0; k < rules.length; k++) {
      var r = rules[k], q = p.rules[k];
      rows.push([r.label]);
      if (r.rate !== undefined) {
        var c = verdict(cfg, q.cok);
        rows.push([t.walk_coverage, pct(q.cov) + " (" + t.target_rate.replace("{r}",
          fmt(cfg, r.rate * 100, 0)) + ")  " + c[0], c[1]]);
        if (q.un) { rows.push([t.households_beyond, fmt(cfg, q.un, 0)]); }
      }
      if (r.m2 !== undefined) {
        var f = verdict(cfg, q.fok);
        var need = "\u2265 " + fmt(cfg, r.m2, 0);
        if (r.floor) { need += ", " + t.fa_min_community.replace("{m}", fmt(cfg, r.floor, 0)); }
        rows.push([t.m2_per_100hh, (q.r === null ? "\u2014" : fmt(cfg, q.r, 1) + " " +
          t.m2_per_100hh_unit) + " (" + need + ")  " + f[0], f[1]]);
        rows.push([t.fa_in_community, fmt(cfg, q.fa, 0) + " " + t.m2]);
        if (q.sh) { rows.push([t.fa_short, fmt(cfg, q.sh, 0) + " " + t.m2, "pm-bad"]); }
      }
    }
    return card(p.name !== null && p.name !== undefined ? p.name : p.id, rows);
  }
  function build() {
    group.addLayer(new PolygonLayer(PM.data(dataId), function (f) {
      return {color: "#333", weight: 1.2, opacity: 0.85,
        fillColor: colours[f.properties.v] || cfg.noData, fillOpacity: 0.35};
    }, function (props, latlng) {
      L.popup({maxWidth: 380}).setLatLng(latlng).setContent(popup(props)).openOn(map);
    }, {rank: 0}));
    zoomLabels(map, group, labels, labelZoom, "pm-comm-label");
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.subdistricts = function (map, group, dataId, labels, labelZoom) {
  function build() {
    group.addLayer(new PolygonLayer(PM.data(dataId), function () {
      return {color: "#222", weight: 2.6, opacity: 0.9, fillColor: "#000", fillOpacity: 0,
        dash: [8, 4]};
    }, null, {rank: 0}));
    zoomLabels(map, group, labels, labelZoom, "pm-sd-label");
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.network = function (map, group, dataId, styles) {
  function build() {
    var layer = new NetworkLayer(PM.data(dataId), styles);
    group._pmNetwork = layer;
    group.addLayer(layer);
    mark("network");
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.panel = function (map, position, cls, markup) {
  var Panel = L.Control.extend({
    options: {position: position},
    onAdd: function () {
      var box = L.DomUtil.create("div", "pm-panel " + cls);
      box.innerHTML = markup;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  new Panel().addTo(map);
};
// Fit the data into the part of the map the panels leave free (left: summary; right: legend
// and layer control), unless that part would be too narrow.
PM.fit = function (map, bounds) {
  var box = map.getContainer();
  var width = box.clientWidth;
  var left = 20, right = 20;
  var summary = box.querySelector(".pm-summary");
  var legend = box.querySelector(".pm-legend");
  if (summary) { left = summary.offsetWidth + 30; }
  right = Math.max(legend ? legend.offsetWidth : 0, 230) + 30;
  if (width - left - right < 0.35 * width) { left = 20; right = 20; }
  map.fitBounds(bounds, {paddingTopLeft: [left, 20], paddingBottomRight: [right, 20],
    maxZoom: 17, animate: false});
};
PM.ready = function (map) {
  mark("scripts done");
  var box = map.getContainer();
  var legend = box.querySelector(".pm-legend");
  var layers = box.querySelector(".leaflet-control-layers");
  if (legend && layers && legend.parentNode === layers.parentNode) {
    legend.parentNode.appendChild(legend);  // the legend goes under the layer control
  }
  // The legend takes the height the layer control leaves, above the scale bar and credit.
  function sizeLegend() {
    if (!legend) { return; }
    var top = legend.getBoundingClientRect().top - box.getBoundingClientRect().top;
    legend.style.maxHeight = Math.max(120, box.clientHeight - top - 70) + "px";
  }
  sizeLegend();
  map.on("resize", sizeLegend);
  var raf = window.requestAnimationFrame || function (f) { return setTimeout(f, 16); };
  raf(function () { raf(function () {
    PM.drawnMs = (window.performance && performance.now) ? performance.now() : null;
    mark("drawn");
    map.getContainer().setAttribute("data-pm-ready", "1");
  }); });
};
})();
