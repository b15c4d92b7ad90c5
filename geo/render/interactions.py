"""The page's scripts: its behaviour and its layout.

:func:`_Interactions`: park labels, hover, search, fit, scale and tiles; :func:`_Layout`: the view
and the panels for the screen and for print.
"""

from __future__ import annotations

import json

from geo.render.leaflet import _macro
from geo.render.style import NARROW_PX, PARK_FILL_OPACITY
from geo.render.text import _js, _js_texts, _t


def _Interactions(*, lang: str, bounds, vector: str, tiles: list[str], parks: list[str],  # noqa: N802
                  proposed: tuple[str, str], towns: tuple[str, list] | None = None):
    """The page's behaviour, in one script.

    Park labels, hover, fill opacity, search, fit control, scale, tiles that fail, Leaflet's own
    texts in the page's language.

    ``parks`` holds the variables of the parks' layers (one per country); their labels and search
    entries come from their features (``window.bigcatsFeatures.parks()``, :mod:`geo.render.features`).
    ``proposed`` holds the proposed park's group and outline variables; ``towns`` the towns' group
    variable and (name, point, label HTML, popup HTML) for each town. Every text goes through :func:`_js`.
    """
    element = _macro(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, T = {{ this.texts }};
  var bc = window.bigcats = { map: map, bounds: L.latLngBounds({{ this.bounds }}), T: T, fill: {{ this.fill }} };
  var el = function (id) { return document.getElementById(id); };
  var nolib = el('bigcats-no-library'); if (nolib) { nolib.remove(); }
  var found = window.bigcatsFeatures.parks();
  var labels = found.labels.map(function (l) {
    return L.marker([l[1], l[2]], { icon: L.divIcon({ className: 'bigcats-park-label', html: '<div>' + l[3] + '</div>',
      iconSize: null }), interactive: false, keyboard: false, pane: 'bigcats-labels' }).addTo(l[0]);
  });
  // labels come largest park first; one that would overlap a label already shown is hidden at this
  // zoom (a closer zoom shows it again), so no two park labels are ever drawn over each other
  function declutter() {
    var shown = [];
    labels.forEach(function (m) {
      var e = m.getElement(), d = e && e.firstChild; if (!d) { return; }
      d.style.visibility = '';
      var r = d.getBoundingClientRect();
      if (shown.some(function (k) { return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom; })) {
        d.style.visibility = 'hidden';
      } else { shown.push(r); }
    });
  }
  bc.declutter = declutter; bc.labels = labels;
  map.on('zoomend viewreset overlayadd overlayremove resize', declutter);
  map.whenReady(declutter);
  // the proposed park's inside answers taps too, from a pane under the parks: where a park is shown,
  // its own popup opens (and names the proposed park); with the parks switched off, the proposed park's
  var outline = {{ this.proposed[1] }}, popup = outline.getPopup(), tip = outline.getTooltip();
  var inside = L.geoJSON(outline.toGeoJSON(), { pane: 'bigcats-proposed-fill',
    style: { stroke: false, fill: true, fillOpacity: 0 } }).addTo({{ this.proposed[0] }});
  inside.bindPopup(popup.getContent(), popup.options); inside.bindTooltip(tip.getContent(), tip.options);
  var parks = {{ this.parks }};
  function target(e) { return e.propagatedFrom || e.layer; }
  parks.forEach(function (g) {
    g.on('mouseover', function (e) { var l = target(e); if (l && l.setStyle) { l.setStyle({ weight: 4, fillOpacity: Math.min(1, bc.fill + 0.2) }); } });
    g.on('mouseout', function (e) { var l = target(e); if (l && l.setStyle) { l.setStyle({ weight: 2, fillOpacity: bc.fill }); } });
  });
  var slider = el('bigcats-opacity');
  if (slider) { slider.addEventListener('input', function () {
    bc.fill = slider.value / 100; parks.forEach(function (g) { g.setStyle({ fillOpacity: bc.fill }); }); }); }
  var msg = el('bigcats-tile-error');
  if (msg) { msg.addEventListener('click', function () { msg.hidden = true; }); }
  {{ this.tiles }}.forEach(function (tile) {
    tile.on('tileerror', function () {
      if (!map.hasLayer(tile)) { return; }
      map.removeLayer(tile); map.addLayer({{ this.vector }});
      if (msg) { msg.hidden = false; }
    });
  });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" lang="en">Leaflet</a>');
  [['.leaflet-control-zoom-in', T.zoom_in], ['.leaflet-control-zoom-out', T.zoom_out]].forEach(function (p) {
    var a = map.getContainer().querySelector(p[0]); if (a) { a.title = p[1]; a.setAttribute('aria-label', p[1]); }
  });
  map.on('popupopen', function (e) {
    var b = e.popup._closeButton; if (b) { b.title = T.close; b.setAttribute('aria-label', T.close); }
    // one popup at a time (a popup whose layer was switched off or opened from code could stay)
    map.eachLayer(function (l) { if (l instanceof L.Popup && l !== e.popup && l.options.autoClose) { map.removeLayer(l); } });
  });
  // Escape closes the popup wherever the focus is (a clicked park path takes it from the map)
  L.DomEvent.on(document, 'keydown', function (e) { if (e.key === 'Escape' && map._popup) { map.closePopup(); } });
  var Scale = L.Control.Scale.extend({ _updateMetric: function (maxMeters) {
    var meters = this._getRoundNum(maxMeters);
    this._updateScale(this._mScale, meters < 1000 ? meters + ' ' + T.m : (meters / 1000) + ' ' + T.km, meters / maxMeters);
  } });
  new Scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  function button(bar, text, title, onClick) {
    var a = L.DomUtil.create('a', 'bigcats-button', bar);
    a.href = '#'; a.innerHTML = text; a.title = title; a.setAttribute('role', 'button'); a.setAttribute('aria-label', title);
    L.DomEvent.on(a, 'click', function (e) { L.DomEvent.stop(e); onClick(); });
    return a;
  }
  var Fit = L.Control.extend({ options: { position: 'topleft' }, onAdd: function () {
    var bar = L.DomUtil.create('div', 'leaflet-bar bigcats-fit');
    button(bar, '&#9635;', T.fit, function () { bc.fit(true); });
    return bar;
  } });
  new Fit().addTo(map);
  var entries = found.search;
  {{ this.towns }}.forEach(function (p) {
    var m = L.circleMarker([p[1], p[2]], { radius: 4, color: '#222', fillColor: '#222', fill: true, fillOpacity: 1, weight: 1 });
    m.bindTooltip(p[3], { permanent: true, direction: 'right', offset: [4, 0], className: 'bigcats-town-label' });
    m.bindPopup(p[4], { maxWidth: 440 });
    m.addTo({{ this.town_group }});
    entries.push([p[0], m, p[1], p[2], null]);
  });
  var Search = L.Control.extend({ options: { position: 'topright' }, onAdd: function () {
    var box = L.DomUtil.create('div', 'leaflet-bar bigcats-search');
    var input = L.DomUtil.create('input', '', box), list = L.DomUtil.create('datalist', '', box);
    button(box, '&#9906;', T.search, function () {
      box.classList.toggle('open'); if (box.classList.contains('open')) { input.focus(); } });
    input.type = 'search'; input.placeholder = T.search_placeholder; input.title = T.search;
    input.setAttribute('aria-label', T.search); list.id = 'bigcats-search-list'; input.setAttribute('list', list.id);
    entries.forEach(function (s) { var o = document.createElement('option'); o.value = s[0]; list.appendChild(o); });
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    function go() {
      var q = input.value.trim().toLowerCase(); if (!q) { return; }
      var hit = entries.filter(function (s) { return s[0].toLowerCase() === q; })[0]
        || entries.filter(function (s) { return s[0].toLowerCase().indexOf(q) >= 0; })[0];
      if (!hit) { input.setCustomValidity(T.not_found.replace('{query}', input.value)); input.reportValidity(); return; }
      input.setCustomValidity('');
      if (hit[4]) { bc.fit(false, L.latLngBounds([[hit[4][1], hit[4][0]], [hit[4][3], hit[4][2]]])); }
      else { map.setView([hit[2], hit[3]], Math.max(map.getZoom(), 9), { animate: false }); }
      hit[1].openPopup(L.latLng(hit[2], hit[3]));
      box.classList.remove('open'); input.blur();
    }
    L.DomEvent.on(input, 'change', go);
    L.DomEvent.on(input, 'keydown', function (e) { if (e.key === 'Enter') { go(); } });
    return box;
  } });
  bc.search = new Search().addTo(map);
})();
{% endmacro %}"""  # noqa: E501 - the script as the page carries it (long lines kept)
    )()
    t = _t(lang)
    keys = ("zoom_in", "zoom_out", "close", "fit", "search", "search_placeholder", "not_found", "km", "m", "layers")
    element.texts = _js_texts({key: t[key] for key in keys})
    element.bounds = json.dumps(bounds)
    element.fill = json.dumps(PARK_FILL_OPACITY)
    element.vector = vector
    element.proposed = proposed
    element.town_group = towns[0] if towns else "null"
    element.towns = "[" + ", ".join(
        f"[{_js(name)}, {point.y:.4f}, {point.x:.4f}, {_js(label)}, {_js(popup)}]"
        for name, point, label, popup in towns[1]
    ) + "]" if towns else "[]"
    element.tiles = f"[{', '.join(tiles)}]"
    element.parks = f"[{', '.join(parks)}]"
    return element


def _Layout(layer_control: str):  # noqa: N802
    """The view and the panels for the screen, and a print layout.

    The view is fitted to the proposed park clear of the panels and controls (never an infinite
    zoom), panels collapse to buttons on a narrow screen, popups are kept inside the free part of
    the map, and the view is kept in the URL hash.
    """
    element = _macro(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, bc = window.bigcats, layers = {{ this.layer_control }};
  var narrow = window.matchMedia('(max-width: {{ this.narrow }}px)');
  var el = function (id) { return document.getElementById(id); };
  function box(node) {
    if (!node) { return null; }
    var r = node.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? r : null;
  }
  function collapse() {
    ['bigcats-story', 'bigcats-legend'].forEach(function (id) { var d = el(id); if (d) { d.open = false; } });
    if (!layers.options.collapsed) { layers.options.collapsed = true; layers.remove(); layers.addTo(map); }
  }
  if (narrow.matches) { collapse(); }
  // a short screen starts with the legend closed, so the story's chart has room; the panel column
  // stops above the legend, whatever its state
  var legend = el('bigcats-legend'), panels = el('bigcats-panels');
  if (legend && window.matchMedia('(max-height: 800px)').matches) { legend.open = false; }
  function room() {
    if (!panels || narrow.matches) { return; }
    var top = legend ? legend.getBoundingClientRect().top : window.innerHeight - 30;
    panels.style.maxHeight = Math.max(120, top - 10 - 10) + 'px';
  }
  room();
  if (legend) { legend.addEventListener('toggle', room); }
  window.addEventListener('resize', room);
  var toggle = layers.getContainer().querySelector('.leaflet-control-layers-toggle');
  if (toggle) { toggle.title = bc.T.layers; toggle.setAttribute('aria-label', bc.T.layers); }
  // the part of the map clear of the panels and controls, as Leaflet paddings
  function area() {
    var size = map.getSize(), m = map.getContainer().getBoundingClientRect(), tl = [10, 10], br = [10, 30];
    var panels = box(el('bigcats-panels')), right = [box(layers.getContainer()), box(bc.search.getContainer())];
    if (narrow.matches) {
      if (panels) { tl[1] = panels.bottom - m.top + 10; }
    } else {
      if (panels) { tl[0] = panels.right - m.left + 10; }
      right.forEach(function (r) { if (r) { br[0] = Math.max(br[0], m.right - r.left + 10); } });
    }
    [0, 1].forEach(function (i) {  // keep at least 40 % of the map: a negative size means an infinite zoom
      var total = tl[i] + br[i], room = i ? size.y : size.x;
      if (total > 0.6 * room) { var k = 0.6 * room / total; tl[i] *= k; br[i] *= k; }
    });
    return { tl: L.point(tl), br: L.point(br) };
  }
  bc.area = area;
  bc.fit = function (animate, bounds) {
    var p = area(), b = bounds || bc.bounds;
    var zoom = map.getBoundsZoom(b, false, p.tl.add(p.br));
    if (isFinite(zoom)) { map.fitBounds(b, { paddingTopLeft: p.tl, paddingBottomRight: p.br, animate: !!animate }); }
    else { map.fitBounds(b, { animate: !!animate }); }
  };
  var layout = L.Popup.prototype._updateLayout, pan = L.Popup.prototype._adjustPan;
  L.Popup.prototype._updateLayout = function () {
    var p = area(), s = map.getSize();
    this.options.maxWidth = Math.min(440, Math.max(160, s.x - p.tl.x - p.br.x - 60));
    this.options.maxHeight = Math.max(150, s.y - p.tl.y - p.br.y - 60);
    return layout.apply(this, arguments);
  };
  L.Popup.prototype._adjustPan = function () {
    var p = area();
    this.options.autoPanPaddingTopLeft = p.tl; this.options.autoPanPaddingBottomRight = p.br;
    return pan.apply(this, arguments);
  };
  function parse() {
    var m = /^#(\\d+(?:\\.\\d+)?)\\/(-?\\d+(?:\\.\\d+)?)\\/(-?\\d+(?:\\.\\d+)?)$/.exec(window.location.hash);
    if (!m) { return null; }
    var z = +m[1], lat = +m[2], lng = +m[3];
    if (!isFinite(z) || Math.abs(lat) > 85 || Math.abs(lng) > 180) { return null; }
    return { zoom: Math.max(map.getMinZoom(), Math.min(map.getMaxZoom(), z)), center: L.latLng(lat, lng) };
  }
  var start = parse();
  if (start) { map.setView(start.center, start.zoom, { animate: false }); } else { bc.fit(false); }
  map.on('moveend', function () {
    var c = map.getCenter(), hash = '#' + Math.round(map.getZoom() * 100) / 100 + '/' + c.lat.toFixed(4) + '/' + c.lng.toFixed(4);
    if (window.location.hash !== hash) { try { history.replaceState(null, '', hash); } catch (e) { /* file: in some browsers */ } }
  });
  window.addEventListener('hashchange', function () { var v = parse(); if (v) { map.setView(v.center, v.zoom); } });
  function forPrint() { if (legend) { legend.open = true; } room(); map.invalidateSize(false); bc.fit(false); }
  window.addEventListener('beforeprint', forPrint);
  window.matchMedia('print').addEventListener('change', function (e) { if (e.matches) { forPrint(); } });
})();
{% endmacro %}"""  # noqa: E501 - the script as the page carries it (long lines kept)
    )()
    element.layer_control = layer_control
    element.narrow = NARROW_PX - 1
    return element
