(function () {
  "use strict";
  var doc = document;

  function $(id) { return doc.getElementById(id); }
  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // ---- sortable tables: a click on a header sorts by that column, again reverses ----------
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? NaN : ""; }
    if (numeric) { // the shown number: "1,234", "3.1%", "-0.0012", "1.5e-05"; "–" or "?" sort last
      return parseFloat(cell.textContent.replace(/,/g, ""));
    }
    return cell.textContent.trim().toLowerCase();
  }

  function sortTable(table, index, numeric, descending) {
    var body = table.tBodies[0];
    var groups = [];
    rowsOf(table).forEach(function (row) {
      // Nested rows stay after the row of their model: only groups move.
      if (row.hasAttribute("data-parent") && groups.length) { groups[groups.length - 1].rows.push(row); }
      else { groups.push({ key: cellValue(row, index, numeric), rows: [row] }); }
    });
    var sign = descending ? -1 : 1;
    groups.sort(function (a, b) {
      var x = a.key, y = b.key;
      if (numeric) {
        var xn = isNaN(x), yn = isNaN(y);
        if (xn || yn) { return xn === yn ? 0 : (xn ? 1 : -1); } // unknown values last
        return (x - y) * sign;
      }
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    var frag = doc.createDocumentFragment();
    groups.forEach(function (g) { g.rows.forEach(function (r) { frag.appendChild(r); }); });
    body.appendChild(frag);
  }

  Array.prototype.forEach.call(doc.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var type = th.getAttribute("data-type");
      if (!type) { return; }
      th.tabIndex = 0;
      th.title = "Sort";
      function activate() {
        var descending = th.getAttribute("aria-sort") === "ascending";
        if (!th.hasAttribute("aria-sort") && type === "num") { descending = true; } // largest first
        if (type === "index") { descending = th.getAttribute("aria-sort") === "ascending"; }
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sortTable(table, index, type !== "text", descending);
      }
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
      });
    });
  });

  // ---- layer table: nested models expand, the search box filters ----------------------
  var layerTable = $("layer-table");
  if (layerTable) {
    var layerRows = rowsOf(layerTable);
    var byKey = {};
    var expanded = {};
    var keyOf = function (row) { return row.id.slice(1); };
    var texts = layerRows.map(function (row) {
      byKey[keyOf(row)] = row;
      return (row.cells[1].textContent + " " + row.cells[2].textContent).toLowerCase();
    });
    var search = $("layer-search");
    var counter = $("layer-count");

    var visibleByTree = function (row) {
      var parent = row.getAttribute("data-parent");
      while (parent !== null) {
        if (!expanded[parent]) { return false; }
        parent = byKey[parent].getAttribute("data-parent");
      }
      return true;
    };
    var refresh = function () {
      var query = search ? search.value.trim().toLowerCase() : "";
      var shown = 0;
      layerRows.forEach(function (row, i) {
        var visible = query ? texts[i].indexOf(query) !== -1 : visibleByTree(row);
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      if (counter) {
        counter.textContent = query ? shown + " of " + layerRows.length + " layers match" : "";
      }
    };
    var setExpanded = function (key, open) {
      expanded[key] = open;
      var button = byKey[key].querySelector("button.tog");
      if (button) {
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = open ? "−" : "+";
      }
    };
    layerTable.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button.tog") : null;
      if (!button) { return; }
      var key = keyOf(button.closest("tr"));
      setExpanded(key, !expanded[key]);
      refresh();
    });
    var all = function (open) {
      layerRows.forEach(function (row) {
        if (row.querySelector("button.tog")) { setExpanded(keyOf(row), open); }
      });
      refresh();
    };
    if ($("expand-all")) { $("expand-all").addEventListener("click", function () { all(true); }); }
    if ($("collapse-all")) { $("collapse-all").addEventListener("click", function () { all(false); }); }
    if (search) { search.addEventListener("input", debounce(refresh, 80)); }
  }

  // ---- weights: filter, flagged only, histograms drawn when their row scrolls into view --
  var weightTable = $("weight-table");
  if (weightTable) {
    var weightRows = rowsOf(weightTable);
    var index = new Map(); // row -> its histogram, by the page's original order
    weightRows.forEach(function (row, i) { index.set(row, i); });
    var weightTexts = weightRows.map(function (row) {
      return (row.cells[0].textContent + "/" + row.cells[1].textContent).toLowerCase();
    });
    var weightSearch = $("weight-search");
    var flaggedOnly = $("flagged-only");
    var filterWeights = function () {
      var query = weightSearch.value.trim().toLowerCase();
      var onlyFlagged = flaggedOnly.checked;
      weightRows.forEach(function (row, i) {
        var flagged = row.classList.contains("bad") || row.classList.contains("flag");
        row.hidden = (query && weightTexts[i].indexOf(query) === -1) || (onlyFlagged && !flagged);
      });
    };
    weightSearch.addEventListener("input", debounce(filterWeights, 80));
    flaggedOnly.addEventListener("change", filterWeights);

    var data = JSON.parse($("hist-data").textContent);
    var SVG = "http://www.w3.org/2000/svg";
    var draw = function (cell) {
      var row = cell.parentNode;
      var h = data[index.get(row)];
      if (!h || cell.firstChild) { return; }
      var counts = h[2], top = Math.max.apply(null, counts), n = counts.length;
      var svg = doc.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 " + n + " 20");
      svg.setAttribute("preserveAspectRatio", "none");
      svg.setAttribute("class", "spark");
      var path = "";
      counts.forEach(function (c, i) {
        if (c > 0) {
          var height = Math.max(0.8, 20 * c / top);
          path += "M" + i + " 20h0.9v" + (-height) + "h-0.9z";
        }
      });
      var shape = doc.createElementNS(SVG, "path");
      shape.setAttribute("d", path);
      svg.appendChild(shape);
      var title = doc.createElementNS(SVG, "title");
      title.textContent = "[" + h[0].toPrecision(4) + ", " + h[1].toPrecision(4) + "] · " + n + " bins · peak " + top;
      svg.appendChild(title);
      cell.appendChild(svg);
    };
    var cells = weightTable.querySelectorAll("td.hist");
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) { draw(entry.target); observer.unobserve(entry.target); }
        });
      }, { rootMargin: "200px" });
      // Watch the cells only once the section is near: until then the browser may skip laying
      // out the whole table (content-visibility), which matters with thousands of tensors.
      var section = new IntersectionObserver(function (entries) {
        if (!entries.some(function (e) { return e.isIntersecting; })) { return; }
        section.disconnect();
        Array.prototype.forEach.call(cells, function (cell) { observer.observe(cell); });
      }, { rootMargin: "300px" });
      section.observe(weightTable);
    } else {
      Array.prototype.forEach.call(cells, draw);
    }
  }

  // ---- graph: pan with the pointer, zoom with the wheel or the buttons -----------------
  // The drawing is parsed inert (a <template>) and attached when the section comes near the
  // viewport: a large SVG costs nothing until someone looks at it.
  var view = $("graph-view");
  var source = $("graph-svg");
  var initGraph = function () {
    if (!source || view.firstChild) { return; }
    view.appendChild(doc.importNode(source.content, true));
    var svg = view.querySelector("svg");
    if (!svg) { return; }
    var base = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(parseFloat);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
    var box = base.slice();
    var apply = function () { svg.setAttribute("viewBox", box.join(" ")); };
    var aspect = function () { return (view.clientHeight || 600) / (view.clientWidth || 800); };
    var fit = function () { // the whole graph, centred
      var a = aspect();
      var w = Math.max(base[2], base[3] / a);
      box = [base[0] - (w - base[2]) / 2, base[1], w, w * a];
      apply();
    };
    var top = function () { // the top of the graph, at most at its natural size, centred
      var a = aspect();
      var w = Math.max(base[2], view.clientWidth || 800);
      if (w * a >= base[3]) { fit(); return; }
      box = [base[0] - (w - base[2]) / 2, base[1], w, w * a];
      apply();
    };
    var zoom = function (factor, fx, fy) {
      var cx = box[0] + box[2] * fx, cy = box[1] + box[3] * fy;
      box[2] *= factor; box[3] *= factor;
      box[0] = cx - box[2] * fx; box[1] = cy - box[3] * fy;
      apply();
    };
    view.addEventListener("wheel", function (e) {
      e.preventDefault();
      var rect = view.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, (e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height);
    }, { passive: false });
    var drag = null;
    view.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, box: box.slice() };
      view.setPointerCapture(e.pointerId);
      view.classList.add("dragging");
    });
    view.addEventListener("pointermove", function (e) {
      if (!drag) { return; }
      var scale = box[2] / (view.clientWidth || 1);
      box[0] = drag.box[0] - (e.clientX - drag.x) * scale;
      box[1] = drag.box[1] - (e.clientY - drag.y) * scale;
      apply();
    });
    var end = function () { drag = null; view.classList.remove("dragging"); };
    view.addEventListener("pointerup", end);
    view.addEventListener("pointercancel", end);
    $("zoom-in").addEventListener("click", function () { zoom(1 / 1.4, 0.5, 0.5); });
    $("zoom-out").addEventListener("click", function () { zoom(1.4, 0.5, 0.5); });
    $("zoom-fit").addEventListener("click", fit);
    $("zoom-reset").addEventListener("click", top);
    top();
  };
  if (view && source) {
    if ("IntersectionObserver" in window) {
      var graphWatch = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { graphWatch.disconnect(); initGraph(); }
      }, { rootMargin: "100px" });
      graphWatch.observe(view);
    } else {
      initGraph();
    }
  }
})();
