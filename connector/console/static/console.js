// The console's own script (no inline scripts: the Content-Security-Policy forbids them).
// Three things htmx does not do: an upload with a progress bar, a SPARQL editor that colours
// its text, and showing only the policy fields of the chosen template.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrf]");
  return field ? field.value : "";
}

function setupUpload(form) {
  const bar = form.querySelector("progress");
  const status = form.querySelector("[data-upload-status]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", csrfToken());
    request.setRequestHeader("Accept", "text/plain");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      status.textContent = e.lengthComputable ? `Sent ${Math.round(100 * e.loaded / e.total)} %` : "Sending…";
    });
    request.addEventListener("load", () => {
      if (request.status === 201) {
        status.textContent = "Published.";
        window.location.assign(request.getResponseHeader("Location") || "/datasets");
      } else {
        status.textContent = request.responseText || `The node answered ${request.status}.`;
        status.setAttribute("role", "alert");
        status.classList.add("error");
      }
    });
    request.addEventListener("error", () => { status.textContent = "The upload failed: the node could not be reached."; });
    status.classList.remove("error");
    status.textContent = "Sending…";
    bar.hidden = false;
    request.send(new FormData(form));
  });
}

const SPARQL_TOKENS = new RegExp([
  "(#[^\\n]*)",                                     // comment
  "(\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*')", // string
  "(<[^<>\\s]*>)",                                  // IRI
  "([?$][A-Za-z_][\\w]*)",                          // variable
  "\\b(SELECT|CONSTRUCT|DESCRIBE|ASK|WHERE|PREFIX|BASE|FROM|NAMED|GRAPH|SERVICE|OPTIONAL|UNION|MINUS|FILTER|BIND|VALUES|AS|DISTINCT|REDUCED|ORDER|BY|ASC|DESC|LIMIT|OFFSET|GROUP|HAVING|COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT|NOT|EXISTS|IN|STR|LANG|REGEX|CONTAINS|LCASE|UCASE|a)\\b",
  "([A-Za-z][\\w-]*:[\\w-]*)",                      // prefixed name
].join("|"), "gi");
const CLASSES = [null, "tok-com", "tok-str", "tok-iri", "tok-var", "tok-kw", "tok-pn"];

function highlight(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(SPARQL_TOKENS)) {
    if (match.index > last) out.append(text.slice(last, match.index));
    const span = document.createElement("span");
    span.className = CLASSES[match.slice(1).findIndex((g) => g !== undefined) + 1];
    span.textContent = match[0];
    out.append(span);
    last = match.index + match[0].length;
  }
  out.append(text.slice(last) + "\n");
  return out;
}

function setupEditor(editor) {
  const area = editor.querySelector("textarea");
  const shown = document.createElement("pre");
  shown.setAttribute("aria-hidden", "true");
  editor.prepend(shown);
  const paint = () => { shown.replaceChildren(highlight(area.value)); shown.scrollTop = area.scrollTop; };
  area.addEventListener("input", paint);
  area.addEventListener("scroll", () => { shown.scrollTop = area.scrollTop; });
  paint();
  for (const button of document.querySelectorAll("[data-prefix]")) {
    button.addEventListener("click", () => {
      const line = `PREFIX ${button.dataset.prefix}: <${button.dataset.iri}>\n`;
      if (!area.value.includes(line.trim())) area.value = line + area.value;
      paint();
      area.focus();
    });
  }
}

function setupPolicy(select) {
  const show = () => {
    for (const part of document.querySelectorAll("[data-when-policy]")) {
      part.hidden = !part.dataset.whenPolicy.split(" ").includes(select.value);
    }
  };
  select.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-upload]").forEach(setupUpload);
  document.querySelectorAll(".editor").forEach(setupEditor);
  document.querySelectorAll("select[data-policy]").forEach(setupPolicy);
});
