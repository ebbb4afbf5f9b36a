/**
 * The one HTML page of the preview; the script fills it from the JSON API. `base` is the path the
 * page was requested under (a global prefix included), already escaped for an attribute.
 */
export function previewPage(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Mail preview</title>
<link rel="stylesheet" href="${base}/assets/preview.css">
</head>
<body>
<header class="bar">
  <h1>Mail preview</h1>
  <nav>
    <a id="nav-templates" href="#/templates">Templates</a>
    <a id="nav-outbox" href="#/outbox">Outbox <span id="outbox-count" class="count">0</span></a>
  </nav>
  <span id="live" class="live" title="Updates arrive over server-sent events">connecting</span>
</header>
<div class="layout">
  <aside id="sidebar">
    <div id="templates-pane">
      <ul id="template-list" class="list"></ul>
      <p id="templates-note" class="note" hidden></p>
      <ul id="orphans" class="note" hidden></ul>
    </div>
    <div id="outbox-pane" hidden>
      <p id="outbox-empty" class="note">No mail sent yet. Mails sent by the application appear here as they leave.</p>
      <ol id="mail-list" class="list"></ol>
    </div>
  </aside>
  <main id="main">
    <section id="template-error" class="error" role="alert" hidden>
      <h2>Templates not reloaded</h2>
      <p class="where"><span id="template-error-file"></span><span id="template-error-line"></span></p>
      <pre id="template-error-message"></pre>
      <p class="hint">The last version that compiled is still in use. Fix the file and save it; this page reloads by itself.</p>
    </section>
    <section id="empty" class="note">Pick a template or a mail on the left.</section>
    <section id="render-error" class="error" role="alert" hidden>
      <h2 id="render-error-title">This preview could not be rendered</h2>
      <p class="where" id="render-error-where"></p>
      <pre id="render-error-message"></pre>
    </section>
    <section id="mail" hidden>
      <h2 id="mail-subject"></h2>
      <dl id="summary"></dl>
      <div class="toolbar">
        <div class="tabs" role="tablist">
          <button type="button" role="tab" data-tab="html">HTML</button>
          <button type="button" role="tab" data-tab="text">Text</button>
          <button type="button" role="tab" data-tab="source">Source</button>
          <button type="button" role="tab" data-tab="headers">Headers</button>
          <button type="button" role="tab" data-tab="attachments">Attachments <span id="attachment-count" class="count">0</span></button>
        </div>
        <div class="widths" role="group" aria-label="Width">
          <button type="button" data-width="desktop">Desktop</button>
          <button type="button" data-width="mobile">Mobile</button>
        </div>
        <span id="render-time" class="muted"></span>
      </div>
      <div id="panel-html" class="panel">
        <div id="frame-box" class="frame-box">
          <iframe id="mail-frame" title="The mail's HTML" sandbox="" referrerpolicy="no-referrer"></iframe>
        </div>
        <p id="no-html" class="note" hidden>This mail has no HTML part.</p>
      </div>
      <div id="panel-text" class="panel" hidden><pre id="mail-text"></pre><p id="no-text" class="note" hidden>This mail has no text part.</p></div>
      <div id="panel-source" class="panel" hidden><p><a id="source-download" href="#">Download .eml</a> <span id="source-size" class="muted"></span></p><pre id="mail-source"></pre></div>
      <div id="panel-headers" class="panel" hidden><table id="mail-headers"><tbody></tbody></table></div>
      <div id="panel-attachments" class="panel" hidden><ul id="mail-attachments"></ul><p id="no-attachments" class="note" hidden>No attachments.</p></div>
    </section>
  </main>
</div>
<script src="${base}/assets/preview.js" data-base="${base}"></script>
</body>
</html>
`;
}
