/**
 * The page's script, plain JavaScript served as it is written here (no build step). It only ever
 * writes text into the page (textContent), never markup, and reads the mail's HTML only through the
 * sandboxed iframe. Kept free of template literals so it can live in this string.
 */
export const PREVIEW_CLIENT = String.raw`(function () {
  'use strict';
  var base = document.currentScript.getAttribute('data-base') || '';
  var $ = function (id) { return document.getElementById(id); };
  var state = { listing: null, mails: [], fresh: {}, tab: 'html', width: 'desktop', current: null, load: 0, reloads: 0 };

  function api(path) {
    return fetch(base + path, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body && body.message) || ('HTTP ' + response.status));
        return body;
      });
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function templateHash(template, preview) {
    return '#/templates/' + encodeURIComponent(template) + (preview === undefined ? '' : '/' + encodeURIComponent(preview));
  }

  function parseRoute() {
    var parts = location.hash.replace(/^#\/?/, '').split('/');
    if (parts[0] === 'outbox') return { mode: 'outbox', id: parts[1] ? Number(parts[1]) : undefined };
    var route = { mode: 'templates' };
    if (parts[1]) route.template = decodeURIComponent(parts[1]);
    if (parts[2] !== undefined && parts[2] !== '') route.preview = decodeURIComponent(parts[2]);
    return route;
  }

  function sameRoute(a, b) {
    return !!a && !!b && a.mode === b.mode && a.id === b.id && a.template === b.template && a.preview === b.preview;
  }

  // Sidebar -----------------------------------------------------------------------------------

  function renderTemplates() {
    var listing = state.listing;
    var list = $('template-list');
    clear(list);
    if (!listing) return;
    listing.templates.forEach(function (template) {
      var item = el('li', 'template');
      item.setAttribute('data-template', template.name);
      item.appendChild(el('span', 'template-name', template.name));
      if (template.locales && template.locales.length) item.appendChild(el('span', 'template-locales', 'also in ' + template.locales.join(', ')));
      var previews = el('ul');
      var entries = template.previews.length ? template.previews : [{ name: undefined }];
      entries.forEach(function (preview) {
        var link = el('a', preview.name === undefined ? 'preview-default' : '', preview.name === undefined ? 'empty context' : preview.name);
        link.href = templateHash(template.name, preview.name);
        link.setAttribute('data-preview', preview.name === undefined ? '' : preview.name);
        if (preview.source) link.title = preview.source + '()';
        var entry = el('li');
        entry.appendChild(link);
        previews.appendChild(entry);
      });
      item.appendChild(previews);
      list.appendChild(item);
    });
    var note = $('templates-note');
    note.hidden = listing.listable && listing.templates.length > 0;
    note.textContent = listing.listable ? 'No templates found.' : 'The configured renderer does not list its templates.';
    var orphans = $('orphans');
    clear(orphans);
    listing.orphans.forEach(function (orphan) {
      orphans.appendChild(el('li', '', orphan.source + '() previews "' + orphan.template + '", which is not a template.'));
    });
    orphans.hidden = listing.orphans.length === 0;
    showTemplateError(listing.error);
    markActive();
  }

  function renderMails() {
    var list = $('mail-list');
    clear(list);
    state.mails.forEach(function (mail) {
      var item = el('li', state.fresh[mail.id] ? 'new' : '');
      item.setAttribute('data-id', String(mail.id));
      var link = el('a');
      link.href = '#/outbox/' + mail.id;
      var subject = el('span', 'subject', mail.subject || '(no subject)');
      if (mail.status === 'failed') subject.appendChild(el('span', 'badge', 'failed'));
      link.appendChild(subject);
      link.appendChild(el('span', 'meta', mail.to.join(', ') + ' \u00b7 ' + new Date(mail.at).toLocaleTimeString()));
      item.appendChild(link);
      list.appendChild(item);
    });
    state.fresh = {};
    $('outbox-count').textContent = String(state.mails.length);
    $('outbox-empty').hidden = state.mails.length > 0;
    markActive();
  }

  function addMails(mails, fresh) {
    var known = {};
    state.mails.forEach(function (m) { known[m.id] = true; });
    mails.forEach(function (m) {
      if (known[m.id]) return;
      state.mails.push(m);
      if (fresh) state.fresh[m.id] = true;
    });
    state.mails.sort(function (a, b) { return b.id - a.id; });
    renderMails();
  }

  function markActive() {
    var route = state.current;
    document.querySelectorAll('.list a').forEach(function (link) {
      link.classList.toggle('active', link.getAttribute('href') === location.hash && !!route);
    });
    $('nav-templates').classList.toggle('active', !route || route.mode === 'templates');
    $('nav-outbox').classList.toggle('active', !!route && route.mode === 'outbox');
  }

  function showTemplateError(error) {
    var box = $('template-error');
    box.hidden = !error;
    if (!error) return;
    $('template-error-file').textContent = error.file || '';
    $('template-error-line').textContent = error.line ? ', line ' + error.line : '';
    $('template-error-message').textContent = error.message;
  }

  // The mail view -----------------------------------------------------------------------------

  function showOnly(id) {
    ['empty', 'render-error', 'mail'].forEach(function (name) { $(name).hidden = name !== id; });
  }

  var STAGES = {
    preview: 'The preview method threw',
    render: 'The template could not be rendered',
    compose: 'The mail could not be composed'
  };

  function showRenderError(error, where) {
    showOnly('render-error');
    $('render-error-title').textContent = STAGES[error.stage] || 'This preview could not be rendered';
    var place = error.file ? error.file + (error.line ? ', line ' + error.line : '') : where;
    $('render-error-where').textContent = place || '';
    $('render-error-message').textContent = error.message;
    document.title = 'Mail preview';
  }

  function row(list, name, value) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return;
    list.appendChild(el('dt', '', name));
    list.appendChild(el('dd', '', Array.isArray(value) ? value.join(', ') : value));
  }

  function size(bytes) {
    return bytes < 1024 ? bytes + ' B' : bytes < 1048576 ? (bytes / 1024).toFixed(1) + ' KB' : (bytes / 1048576).toFixed(1) + ' MB';
  }

  function showMail(view, links, rows, renderMs) {
    showOnly('mail');
    document.title = 'Mail preview \u2014 ' + (view.subject || '(no subject)');
    $('mail-subject').textContent = view.subject || '(no subject)';
    var summary = $('summary');
    clear(summary);
    row(summary, 'From', view.from);
    row(summary, 'To', view.to);
    row(summary, 'Cc', view.cc);
    row(summary, 'Bcc', view.bcc);
    row(summary, 'Reply-To', view.replyTo);
    row(summary, 'Envelope', view.envelope.from + ' \u2192 ' + view.envelope.to.join(', '));
    row(summary, 'Date', view.date ? new Date(view.date).toLocaleString() : undefined);
    rows.forEach(function (r) { row(summary, r[0], r[1]); });

    $('render-time').textContent = renderMs === undefined ? '' : 'Rendered in ' + renderMs.toFixed(2) + ' ms';

    state.reloads += 1;
    var frame = $('mail-frame');
    $('frame-box').hidden = !view.hasHtml;
    $('no-html').hidden = view.hasHtml;
    if (view.hasHtml) frame.src = links.html + (links.html.indexOf('?') < 0 ? '?' : '&') + 'v=' + state.reloads;
    else frame.removeAttribute('src');

    $('mail-text').textContent = view.text || '';
    $('mail-text').hidden = view.text === undefined;
    $('no-text').hidden = view.text !== undefined;

    $('mail-source').textContent = '';
    $('source-download').href = links.source + (links.source.indexOf('?') < 0 ? '?' : '&') + 'download=1';
    $('source-size').textContent = size(view.size);
    state.sourceUrl = links.source;
    state.sourceLoaded = false;

    var headers = $('mail-headers').tBodies[0];
    clear(headers);
    view.headers.forEach(function (h) {
      var tr = el('tr');
      tr.appendChild(el('th', '', h.name));
      tr.appendChild(el('td', '', h.value));
      headers.appendChild(tr);
    });

    var list = $('mail-attachments');
    clear(list);
    view.attachments.forEach(function (a) {
      var item = el('li');
      var href = links.attachment(a.index);
      if (a.inline && !a.notKept) {
        var img = el('img');
        img.src = href;
        img.alt = '';
        item.appendChild(img);
      }
      var link = el('a', '', a.filename || ('attachment ' + (a.index + 1)));
      link.href = href;
      if (!a.inline) link.setAttribute('download', a.filename || '');
      item.appendChild(link);
      var facts = [a.contentType, size(a.size)];
      if (a.cid) facts.push('cid:' + a.cid);
      if (a.notKept) facts.push('content not kept: a stream or a file the transport read');
      item.appendChild(el('span', 'muted', facts.join(' \u00b7 ')));
      list.appendChild(item);
    });
    $('attachment-count').textContent = String(view.attachments.length);
    $('no-attachments').hidden = view.attachments.length > 0;
    selectTab(state.tab);
  }

  function selectTab(tab) {
    state.tab = tab;
    document.querySelectorAll('[data-tab]').forEach(function (button) {
      button.setAttribute('aria-selected', String(button.getAttribute('data-tab') === tab));
    });
    ['html', 'text', 'source', 'headers', 'attachments'].forEach(function (name) { $('panel-' + name).hidden = name !== tab; });
    document.querySelector('.widths').hidden = tab !== 'html';
    if (tab === 'source' && state.sourceUrl && !state.sourceLoaded) {
      state.sourceLoaded = true;
      var url = state.sourceUrl;
      fetch(url, { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (text) {
        if (state.sourceUrl === url) $('mail-source').textContent = text;
      });
    }
  }

  function selectWidth(width) {
    state.width = width;
    document.querySelectorAll('[data-width]').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.getAttribute('data-width') === width));
    });
    $('frame-box').classList.toggle('mobile', width === 'mobile');
  }

  function query(template, preview) {
    return '?template=' + encodeURIComponent(template) + (preview === undefined ? '' : '&preview=' + encodeURIComponent(preview));
  }

  function previewSource(template, preview) {
    var entry = state.listing && state.listing.templates.filter(function (t) { return t.name === template; })[0];
    var found = entry && entry.previews.filter(function (p) { return p.name === preview; })[0];
    return found ? found.source + '()' : '';
  }

  function showTemplate(route, load) {
    var q = query(route.template, route.preview);
    return api('/api/preview' + q).then(function (answer) {
      if (load !== state.load) return;
      if (!answer.ok) return showRenderError(answer.error, answer.error.stage === 'preview' ? previewSource(route.template, route.preview) : route.template);
      showMail(answer.view, {
        html: base + '/api/preview/html' + q,
        source: base + '/api/preview/source' + q,
        attachment: function (i) { return base + '/api/preview/attachments/' + i + q; }
      }, [['Template', route.template], ['Preview', route.preview === undefined ? 'empty context' : route.preview], ['Locale', answer.locale]], answer.renderMs);
    });
  }

  function showOutboxMail(route, load) {
    var path = '/api/mails/' + route.id;
    return api(path).then(function (answer) {
      if (load !== state.load) return;
      showMail(answer.view, {
        html: base + path + '/html',
        source: base + path + '/source',
        attachment: function (i) { return base + path + '/attachments/' + i; }
      }, [
        ['Template', answer.template],
        ['Locale', answer.locale],
        ['Status', answer.status === 'failed' ? 'failed: ' + (answer.error || '') : 'sent'],
        ['Transport', answer.transport],
        ['Rejected', answer.rejected],
        ['Recorded', new Date(answer.at).toLocaleString()]
      ]);
    });
  }

  function route() {
    var next = parseRoute();
    state.current = next;
    state.load += 1;
    var load = state.load;
    $('templates-pane').hidden = next.mode !== 'templates';
    $('outbox-pane').hidden = next.mode !== 'outbox';
    markActive();
    var shown;
    if (next.mode === 'templates' && next.template !== undefined) shown = showTemplate(next, load);
    else if (next.mode === 'outbox' && next.id !== undefined && !isNaN(next.id)) shown = showOutboxMail(next, load);
    else {
      showOnly('empty');
      document.title = 'Mail preview';
      return;
    }
    shown.catch(function (error) {
      if (load !== state.load) return;
      showRenderError({ message: error.message }, '');
    });
  }

  function reloadTemplates() {
    return api('/api/templates').then(function (listing) {
      state.listing = listing;
      renderTemplates();
      var current = state.current;
      if (current && current.mode === 'templates' && current.template !== undefined && sameRoute(current, parseRoute())) route();
    });
  }

  function setLive(on) {
    var live = $('live');
    live.classList.toggle('on', on);
    live.textContent = on ? 'live' : 'reconnecting';
  }

  function connect() {
    var events = new EventSource(base + '/api/events');
    events.addEventListener('ready', function () {
      setLive(true);
      // After a reconnection: the mails recorded while the stream was down.
      if (state.connected) api('/api/mails').then(function (mails) { addMails(mails, true); });
      state.connected = true;
    });
    events.addEventListener('error', function () { setLive(false); });
    events.addEventListener('mail', function (event) { addMails([JSON.parse(event.data)], true); });
    events.addEventListener('templates', function (event) {
      var change = JSON.parse(event.data);
      if (state.listing) state.listing.error = change.error;
      showTemplateError(change.error);
      reloadTemplates();
    });
  }

  document.querySelectorAll('[data-tab]').forEach(function (button) {
    button.addEventListener('click', function () { selectTab(button.getAttribute('data-tab')); });
  });
  document.querySelectorAll('[data-width]').forEach(function (button) {
    button.addEventListener('click', function () { selectWidth(button.getAttribute('data-width')); });
  });
  window.addEventListener('hashchange', route);
  selectWidth(state.width);
  selectTab(state.tab);
  connect();
  Promise.all([api('/api/templates'), api('/api/mails')]).then(function (answers) {
    state.listing = answers[0];
    renderTemplates();
    addMails(answers[1], false);
    route();
  }, function (error) {
    showRenderError({ message: 'The preview API did not answer: ' + error.message }, '');
  });
})();
`;
