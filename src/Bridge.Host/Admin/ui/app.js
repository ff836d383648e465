// Bridge's operator page. Plain script, no build step. Every value that comes from the API (and so possibly from an ERP) is
// rendered as text: through textContent, text nodes and setAttribute on harmless attributes; nothing is ever parsed as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'bridge.admin.token';
  const READ_ONLY_TIP = 'Your token is read-only: this needs a token with the Operator role.';
  const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const STATUSES = ['Pending', 'Replaying', 'Replayed', 'Discarded'];
  const FILTER_NAMES = ['status', 'messageType', 'queue', 'key', 'exceptionType', 'text', 'from', 'to'];

  // The API lives beside the page: /admin/ui/ → /admin/. Relative, so a reverse proxy's path prefix is kept.
  const apiBase = new URL('../', window.location.href);
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    session: null,
    filters: {},
    group: null,
    page: 1,
    pageSize: 50,
    pageItems: [],
    selected: new Set(),
    letter: null,
    job: null,
    jobTimer: null,
    generation: 0,
  };

  class ApiError extends Error {
    constructor(status, problem) {
      super(describeProblem(status, problem));
      this.status = status;
      this.problem = problem || {};
    }
  }

  function describeProblem(status, problem) {
    const title = problem && typeof problem.title === 'string' ? problem.title : 'HTTP ' + status;
    const detail = problem && typeof problem.detail === 'string' ? problem.detail : '';
    return detail ? title + ': ' + detail : title;
  }

  // ------------------------------------------------------------------ rendering helpers (text only)

  /** Builds an element. Strings among the children become text nodes; attributes go through setAttribute. */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') element.className = value;
      else if (name === 'onclick') element.addEventListener('click', value);
      else if (name === 'onchange') element.addEventListener('change', value);
      else if (value === true) element.setAttribute(name, '');
      else element.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function setText(id, value) {
    $(id).textContent = value === null || value === undefined ? '' : String(value);
  }

  function time(iso) {
    if (!iso) return h('span', { class: 'muted' }, '—');
    const date = new Date(iso);
    const shown = Number.isNaN(date.getTime())
      ? String(iso)
      : date.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    return h('time', { datetime: String(iso), title: String(iso) }, shown);
  }

  function statusBadge(status) {
    const known = STATUSES.includes(status) ? status : 'Unknown';
    return h('span', { class: 'status status-' + known.toLowerCase() }, String(status));
  }

  function shorten(text, length) {
    const value = String(text || '');
    return value.length > length ? value.slice(0, length - 1) + '…' : value;
  }

  /**
   * Re-indents JSON text without parsing numbers, so 100.10 stays 100.10 and long ids keep every digit. The caller has
   * checked that the text is valid JSON.
   */
  function indentJson(text) {
    let out = '';
    let depth = 0;
    let inString = false;
    let escaped = false;
    const newline = () => '\n' + '  '.repeat(depth);
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        out += c;
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
      if (c === '"') {
        inString = true;
        out += c;
      } else if (c === '{' || c === '[') {
        const close = c === '{' ? '}' : ']';
        let j = i + 1;
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text[j] === close) {
          out += c + close;
          i = j;
        } else {
          depth++;
          out += c + newline();
        }
      } else if (c === '}' || c === ']') {
        depth--;
        out += newline() + c;
      } else if (c === ',') {
        out += ',' + newline();
      } else if (c === ':') {
        out += ': ';
      } else {
        out += c;
      }
    }
    return out;
  }

  function prettyBody(letter) {
    if (letter.bodyEncoding !== 'utf8') return { text: letter.body, json: false };
    try {
      JSON.parse(letter.body);
      return { text: indentJson(letter.body), json: true };
    } catch {
      return { text: letter.body, json: false };
    }
  }

  function notice(text) {
    setText('notice', text);
  }

  function problem(text) {
    setText('problem', text);
  }

  // ------------------------------------------------------------------ the API

  async function api(path, options = {}) {
    const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    let body;
    if (options.rawJson !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = options.rawJson;
    } else if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const response = await fetch(new URL(path, apiBase), {
      method: options.method || 'GET',
      headers,
      body,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text };
      }
    }
    if (response.status === 401 && !options.signingIn) {
      signOut('The token is no longer accepted; sign in again.');
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function query(parameters) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters)) {
      if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
    }
    const text = search.toString();
    return text ? '?' + text : '';
  }

  function filterParameters() {
    return { ...state.filters, group: state.group };
  }

  // ------------------------------------------------------------------ signing in

  async function signIn(token) {
    state.token = token;
    try {
      state.session = await api('me', { signingIn: true });
    } catch (error) {
      state.token = null;
      state.session = null;
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(error.status === 401 ? 'This token is not accepted.' : error.message);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    setText('who-text', 'Signed in as ' + state.session.name + ' (' + state.session.role + ')');
    $('read-only-note').hidden = !readOnly();
    applyPermissions(document);
    route();
  }

  function signOut(message) {
    state.token = null;
    state.session = null;
    stopJobWatch();
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(message || '');
  }

  function showSignIn(message) {
    $('app').hidden = true;
    $('who').hidden = true;
    $('sign-in').hidden = false;
    setText('sign-in-error', message);
    $('token').focus();
  }

  function readOnly() {
    return !state.session || state.session.role !== 'Operator';
  }

  /** A read-only token disables every action button, and says why on hover. */
  function applyPermissions(root) {
    for (const button of root.querySelectorAll('.act')) {
      if (readOnly()) {
        button.disabled = true;
        button.title = READ_ONLY_TIP;
      }
    }
  }

  /** An action button that is enabled only when the token may act and the dead letter's state allows it. */
  function enableAction(button, allowed, whyNot) {
    if (readOnly()) {
      button.disabled = true;
      button.title = READ_ONLY_TIP;
    } else {
      button.disabled = !allowed;
      button.title = allowed ? '' : whyNot;
    }
  }

  // ------------------------------------------------------------------ routing: #/letters, #/groups, #/letter/<id>

  function route() {
    if (!state.session) return;
    const hash = window.location.hash || '#/letters';
    const letterMatch = /^#\/letter\/(.+)$/.exec(hash);
    $('letters-view').hidden = true;
    $('groups-view').hidden = true;
    $('detail-view').hidden = true;
    $('filters').hidden = false;
    problem('');
    if (!letterMatch) state.letter = null;
    $('tab-letters').removeAttribute('aria-current');
    $('tab-groups').removeAttribute('aria-current');
    if (letterMatch && GUID.test(letterMatch[1])) {
      $('filters').hidden = true;
      $('detail-view').hidden = false;
      loadLetter(letterMatch[1]);
    } else if (hash === '#/groups') {
      $('tab-groups').setAttribute('aria-current', 'page');
      $('groups-view').hidden = false;
      loadGroups();
    } else {
      $('tab-letters').setAttribute('aria-current', 'page');
      $('letters-view').hidden = false;
      loadLetters();
    }
  }

  // ------------------------------------------------------------------ filters

  function readFilters() {
    const form = $('filters');
    const filters = {};
    for (const name of FILTER_NAMES) {
      const value = form.elements[name].value.trim();
      if (!value) continue;
      if (name === 'from' || name === 'to') {
        // datetime-local is the browser's local time; the API takes an instant.
        const date = new Date(value);
        if (!Number.isNaN(date.getTime())) filters[name] = date.toISOString();
      } else {
        filters[name] = value;
      }
    }
    return filters;
  }

  function showGroupFilter() {
    $('f-group-box').hidden = !state.group;
    setText('f-group', state.group || '');
  }

  // ------------------------------------------------------------------ the list

  async function loadLetters() {
    const generation = ++state.generation;
    showGroupFilter();
    let page;
    try {
      page = await api('dead-letters' + query({ ...filterParameters(), page: state.page, pageSize: state.pageSize }));
    } catch (error) {
      problem(error.message);
      return;
    }
    if (generation !== state.generation) return;
    state.pageItems = page.items;
    const visible = new Set(page.items.map((item) => item.id));
    for (const id of [...state.selected]) if (!visible.has(id)) state.selected.delete(id);

    const body = $('letters').tBodies[0];
    body.replaceChildren(...page.items.map(letterRow));
    $('letters-empty').hidden = page.items.length > 0;
    const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
    setText('letters-count', page.total === 1 ? '1 dead letter' : page.total + ' dead letters');
    setText('page-text', 'Page ' + page.page + ' of ' + pages);
    $('page-prev').disabled = page.page <= 1;
    $('page-next').disabled = page.page >= pages;
    updateSelection();
  }

  function letterRow(item) {
    const key = item.erpKey ? item.erpKey : '(no key)';
    const checkbox = h('input', {
      type: 'checkbox',
      class: 'select',
      'aria-label': 'Select ' + (item.erpKey || item.id),
      onchange: (event) => {
        if (event.target.checked) state.selected.add(item.id);
        else state.selected.delete(item.id);
        updateSelection();
      },
    });
    checkbox.checked = state.selected.has(item.id);
    return h('tr', { 'data-id': item.id },
      h('td', null, checkbox),
      h('td', null, time(item.lastFailedAt)),
      h('td', { class: 'status-cell' }, statusBadge(item.status)),
      h('td', { class: 'key' }, h('a', { href: '#/letter/' + item.id, title: 'Show dead letter ' + item.id }, key)),
      h('td', null, item.messageType),
      h('td', { class: 'failure' },
        h('code', null, shortType(item.exceptionType)),
        ' ',
        h('span', { title: item.exceptionMessage }, shorten(item.exceptionMessage, 140))),
      h('td', { class: 'num' }, String(item.failureCount)),
      h('td', { class: 'queue' }, item.sourceQueue));
  }

  function shortType(type) {
    const value = String(type || '');
    const dot = value.lastIndexOf('.');
    return dot >= 0 ? value.slice(dot + 1) : value;
  }

  function updateSelection() {
    const count = state.selected.size;
    const button = $('replay-selected');
    setText('replay-selected', count ? 'Replay selected (' + count + ')' : 'Replay selected');
    enableAction(button, count > 0, 'Select messages first.');
    const filtered = state.group || Object.keys(state.filters).length > 0;
    enableAction($('replay-matching'), filtered, 'Set a filter first: this replays every pending dead letter that matches it.');
    const all = $('select-all');
    all.checked = state.pageItems.length > 0 && state.pageItems.every((item) => state.selected.has(item.id));
  }

  // ------------------------------------------------------------------ groups

  async function loadGroups() {
    const generation = ++state.generation;
    showGroupFilter();
    let groups;
    try {
      groups = await api('dead-letters/groups' + query(state.filters));
    } catch (error) {
      problem(error.message);
      return;
    }
    if (generation !== state.generation) return;
    $('groups').tBodies[0].replaceChildren(...groups.map(groupRow));
    $('groups-empty').hidden = groups.length > 0;
  }

  function groupRow(group) {
    const replay = h('button', { type: 'button', class: 'act' }, 'Replay group');
    replay.addEventListener('click', () => startReplay({ filter: { ...state.filters, status: undefined, group: group.failureGroup } }, 'the ' + group.count + ' in this group'));
    enableAction(replay, true, '');
    const show = h('button', { type: 'button', class: 'secondary' }, 'Show messages');
    show.addEventListener('click', () => {
      state.group = group.failureGroup;
      state.page = 1;
      window.location.hash = '#/letters';
    });
    return h('tr', { 'data-group': group.failureGroup },
      h('td', { class: 'failure' }, h('code', null, group.exceptionType), h('div', null, group.normalizedMessage)),
      h('td', { class: 'num' }, String(group.count)),
      h('td', null, time(group.firstSeen)),
      h('td', null, time(group.lastSeen)),
      h('td', { class: 'row-actions' }, show, ' ', replay));
  }

  // ------------------------------------------------------------------ one dead letter

  async function loadLetter(id) {
    const generation = ++state.generation;
    let letter;
    try {
      letter = await api('dead-letters/' + encodeURIComponent(id));
    } catch (error) {
      problem(error.message);
      return;
    }
    if (generation !== state.generation) return;
    const first = !state.letter || state.letter.id !== letter.id;
    if (first) {
      setText('d-error', '');
      setText('d-edit-errors', '');
    }
    state.letter = letter;
    renderLetter(letter, first);
    if (first) $('detail-title').focus();
  }

  function renderLetter(letter, first) {
    setText('d-id', letter.id);
    $('d-status').replaceChildren(statusBadge(letter.status));
    setText('d-reason', letter.statusReason ? '— ' + letter.statusReason : '');

    const meta = [
      ['ERP key', letter.erpKey || '(none)'],
      ['Message type', letter.messageType],
      ['Queue', letter.sourceQueue],
      ['Message id', letter.messageId || '(none)'],
      ['Correlation id', letter.correlationId || '(none)'],
      ['Content type', letter.contentType || '(none)'],
      ['Attempts (last failure)', String(letter.attemptCount)],
      ['Failures', String(letter.failureCount)],
      ['Replays', String(letter.replayCount)],
      ['First failed', time(letter.firstFailedAt)],
      ['Last failed', time(letter.lastFailedAt)],
    ];
    $('d-meta').replaceChildren(...meta.flatMap(([name, value]) => [h('dt', null, name), h('dd', null, value)]));

    setText('d-exception-type', letter.exceptionType);
    setText('d-exception-message', letter.exceptionMessage);
    setText('d-stack', letter.stackTrace || '(no stack trace)');

    const body = prettyBody(letter);
    setText('d-encoding', '(' + (letter.bodyEncoding === 'utf8' ? (body.json ? 'JSON' : 'text, not valid JSON') : 'base64: not UTF-8 text') + ')');
    setText('d-body', body.text);

    const headers = Object.entries(letter.headers || {}).sort(([a], [b]) => a.localeCompare(b));
    $('d-headers').tBodies[0].replaceChildren(...headers.map(([name, value]) =>
      h('tr', null, h('th', { scope: 'row' }, name), h('td', null, value === null ? '(null)' : value))));

    $('d-audit').tBodies[0].replaceChildren(...(letter.audit || []).map((entry) =>
      h('tr', null,
        h('td', null, time(entry.at)),
        h('td', null, entry.actor),
        h('td', null, entry.action),
        h('td', null, entry.outcome),
        h('td', { class: 'wrap' }, entry.detail || ''))));

    const pending = letter.status === 'Pending';
    enableAction($('d-replay'), pending, 'Only a Pending dead letter can be replayed (this one is ' + letter.status + ').');
    enableAction($('d-restore'), letter.status === 'Discarded', 'Only a Discarded dead letter can be restored.');
    const discardable = pending || letter.status === 'Replayed';
    enableAction($('d-discard'), discardable, 'Only a Pending or Replayed dead letter can be discarded.');
    $('d-discard-reason').disabled = readOnly() || !discardable;
    $('d-restore').hidden = letter.status !== 'Discarded';
    $('d-discard-form').hidden = letter.status === 'Discarded';

    // Hidden when the installation does not allow it, and for bodies that are not text.
    const editable = state.session.editAndReplay && letter.bodyEncoding === 'utf8';
    $('d-edit').hidden = !editable;
    if (editable) {
      if (first) $('d-edit-body').value = body.text;
      $('d-edit-body').readOnly = readOnly() || !pending;
      enableAction($('d-edit-send'), pending, 'Only a Pending dead letter can be edited and replayed.');
    }
  }

  async function act(action, path, options, describe) {
    const letter = state.letter;
    if (!letter) return;
    setText('d-error', '');
    try {
      const result = await api('dead-letters/' + encodeURIComponent(letter.id) + '/' + path, { method: 'POST', ...options });
      notice(describe(result));
    } catch (error) {
      if (action === 'edit' && error.status === 422) {
        showEditErrors(error.problem.errors, error.message);
      } else {
        setText('d-error', error.message);
      }
    }
    await loadLetter(letter.id);
  }

  function showEditErrors(errors, fallback) {
    const list = Array.isArray(errors) && errors.length ? errors : [fallback];
    $('d-edit-errors').replaceChildren(
      h('p', null, 'The API refused the edited body:'),
      h('ul', null, list.map((error) => h('li', null, String(error)))));
  }

  // ------------------------------------------------------------------ bulk replay jobs

  async function startReplay(request, what) {
    problem('');
    let job;
    try {
      job = await api('dead-letters/replay', { method: 'POST', json: request });
    } catch (error) {
      problem('Replay of ' + what + ' refused: ' + error.message);
      return;
    }
    state.selected.clear();
    watchJob(job);
  }

  function watchJob(job) {
    stopJobWatch();
    state.job = job;
    $('job').hidden = false;
    renderJob(job);
    const poll = async () => {
      if (!state.job || state.job.id !== job.id) return;
      try {
        const progress = await api('dead-letters/replay-jobs/' + encodeURIComponent(job.id));
        state.job = progress;
        renderJob(progress);
        if (progress.state === 'Running') {
          state.jobTimer = window.setTimeout(poll, 500);
        } else {
          state.jobTimer = null;
          route();
        }
      } catch (error) {
        setText('job-text', 'Cannot read the job\'s progress: ' + error.message);
      }
    };
    if (job.state === 'Running') state.jobTimer = window.setTimeout(poll, 300);
    else route();
  }

  function stopJobWatch() {
    if (state.jobTimer) window.clearTimeout(state.jobTimer);
    state.jobTimer = null;
  }

  function renderJob(job) {
    const done = job.replayed + job.skipped + job.failed + job.notFound;
    const progress = $('job-progress');
    progress.max = Math.max(1, job.total);
    progress.value = done;
    const parts = [
      job.state + ':',
      done + ' of ' + job.total + ' done —',
      job.replayed + ' replayed,',
      job.skipped + ' skipped,',
      job.failed + ' failed',
    ];
    if (job.notFound) parts.push(', ' + job.notFound + ' not found');
    if (job.error) parts.push('— ' + job.error);
    setText('job-text', parts.join(' '));
    $('job-progress').setAttribute('aria-label', 'Replay job progress');
    $('job').setAttribute('data-state', job.state);
    enableAction($('job-cancel'), job.state === 'Running', 'The job has finished.');
  }

  // ------------------------------------------------------------------ wiring

  function wire() {
    $('sign-in-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', route);

    $('filters').addEventListener('submit', (event) => {
      event.preventDefault();
      state.filters = readFilters();
      state.page = 1;
      state.selected.clear();
      if (window.location.hash === '#/groups') loadGroups();
      else if (window.location.hash.startsWith('#/letter/')) window.location.hash = '#/letters';
      else loadLetters();
    });
    $('f-reset').addEventListener('click', () => {
      $('filters').reset();
      state.filters = {};
      state.group = null;
      state.page = 1;
      state.selected.clear();
      route();
    });
    $('f-group-clear').addEventListener('click', () => {
      state.group = null;
      state.page = 1;
      route();
    });

    $('page-prev').addEventListener('click', () => {
      state.page = Math.max(1, state.page - 1);
      loadLetters();
    });
    $('page-next').addEventListener('click', () => {
      state.page += 1;
      loadLetters();
    });
    $('page-size').addEventListener('change', (event) => {
      state.pageSize = Number(event.target.value);
      state.page = 1;
      loadLetters();
    });
    $('select-all').addEventListener('change', (event) => {
      for (const item of state.pageItems) {
        if (event.target.checked) state.selected.add(item.id);
        else state.selected.delete(item.id);
      }
      for (const box of $('letters').tBodies[0].querySelectorAll('input.select')) box.checked = event.target.checked;
      updateSelection();
    });
    $('replay-selected').addEventListener('click', () => {
      if (state.selected.size) startReplay({ ids: [...state.selected] }, 'the selected messages');
    });
    $('replay-matching').addEventListener('click', () =>
      startReplay({ filter: { ...filterParameters(), status: undefined } }, 'every pending match'));

    $('job-cancel').addEventListener('click', async () => {
      if (!state.job) return;
      try {
        renderJob(await api('dead-letters/replay-jobs/' + encodeURIComponent(state.job.id) + '/cancel', { method: 'POST' }));
      } catch (error) {
        setText('job-text', error.message);
      }
    });
    $('job-close').addEventListener('click', () => {
      stopJobWatch();
      state.job = null;
      $('job').hidden = true;
    });

    $('d-replay').addEventListener('click', () =>
      act('replay', 'replay', {}, (result) => 'Replayed: ' + (result.detail || 'sent back to its queue.')));
    $('d-restore').addEventListener('click', () =>
      act('restore', 'restore', {}, () => 'Restored: the dead letter is Pending again.'));
    $('d-discard-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const reason = $('d-discard-reason').value.trim();
      if (!reason) {
        setText('d-error', 'Give a reason to discard: it is kept in the audit trail.');
        $('d-discard-reason').focus();
        return;
      }
      act('discard', 'discard', { json: { reason } }, () => 'Discarded.').then(() => {
        $('d-discard-reason').value = '';
      });
    });
    $('d-edit-send').addEventListener('click', () => {
      const text = $('d-edit-body').value;
      try {
        JSON.parse(text);
      } catch (error) {
        showEditErrors(['Not valid JSON: ' + error.message]);
        return;
      }
      setText('d-edit-errors', '');
      // Sent as written (not re-serialized), so numbers keep their exact digits.
      act('edit', 'edit-and-replay', { rawJson: '{"body":' + text + '}' },
        (result) => 'Sent as new message ' + result.newMessageId + '; this dead letter is archived.');
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    wire();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
    else showSignIn('');
  });
})();
