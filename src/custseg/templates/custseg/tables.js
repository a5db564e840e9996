/* custseg tables: sort by a column head, filter the rows, keyboard first; no library, nothing
   loaded from anywhere (each page carries this script inline: docs/reports.md, "Tables").
   The table's CSV download is a data: link written by custseg.studies.render.Table, so it works
   with scripts off too. Cells of numbers carry their value in data-v ("£1.2k" sorts as 1234.5). */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var collator = new Intl.Collator(lang, { numeric: true, sensitivity: "base" });

  function key(cell) {
    // [missing?, number or text]: the value the cell carries (data-v), or the first number of a figure
    // the page wrote as text, or the text
    if (!cell) return [true, ""];
    var value = cell.getAttribute("data-v");
    if (value !== null && value !== "") return [false, parseFloat(value)];
    var text = cell.textContent.trim();
    if (text === "" || text === "\u2013") return [true, text];
    if (cell.classList.contains("num")) {
      // a figure written as text by the page ("CN¥6,987,571 (15.2%)"): its first number
      var number = text.replace(/[,\s\u00a0\u202f]/g, "").match(/[-+\u2212]?\d+(\.\d+)?/);
      if (number) return [false, parseFloat(number[0].replace("\u2212", "-"))];
    }
    return [false, text];
  }

  function compare(a, b) {
    if (a[0] !== b[0]) return a[0] ? 1 : -1; // missing values last, either way round
    if (typeof a[1] === "number" && typeof b[1] === "number") return a[1] - b[1];
    if (typeof a[1] === "number") return -1; // numbers before text in a mixed column
    if (typeof b[1] === "number") return 1;
    return collator.compare(a[1], b[1]);
  }

  function sortBy(table, heads, index) {
    var head = heads[index];
    var order = head.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", order);
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, position) {
      return { row: row, key: key(row.cells[index]), position: position };
    });
    var sign = order === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      if (a.key[0] !== b.key[0]) return compare(a.key, b.key);
      return sign * compare(a.key, b.key) || a.position - b.position; // stable
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }

  function filterRows(table, query, count, words) {
    var terms = query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var text = row.textContent.toLocaleLowerCase();
      var match = terms.every(function (term) { return text.indexOf(term) !== -1; });
      row.hidden = !match;
      if (match) shown += 1;
    });
    count.textContent = terms.length ? words.replace("{shown}", shown).replace("{total}", rows.length) : "";
  }

  function enhance(block) {
    var table = block.querySelector("table.cs-table");
    if (!table || !table.tHead || !table.tBodies.length) return;
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (head, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "cs-sort";
      button.title = block.getAttribute("data-sort-label") || "";
      while (head.firstChild) button.appendChild(head.firstChild);
      head.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, heads, index); });
    });
    var tools = block.querySelector(".cs-table-tools");
    if (!tools || table.tBodies[0].rows.length < 2) return;
    var input = document.createElement("input");
    input.type = "search";
    input.className = "cs-filter";
    input.placeholder = block.getAttribute("data-filter-label") || "";
    input.setAttribute("aria-label", input.placeholder + ": " + (table.caption ? table.caption.textContent : ""));
    var count = document.createElement("span");
    count.className = "cs-count";
    count.setAttribute("aria-live", "polite");
    var words = block.getAttribute("data-count-label") || "{shown} / {total}";
    input.addEventListener("input", function () { filterRows(table, input.value, count, words); });
    tools.insertBefore(count, tools.firstChild);
    tools.insertBefore(input, count);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".cs-table-block"), enhance);
})();
