// Bridge's operator page. Plain script, no build step. Every value that comes from the API (and so possibly from an ERP) is
// rendered as text: through textContent, text nodes and setAttribute on harmless attributes; nothing is ever parsed as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'bridge.admin.token';
  const READ_ONLY_TIP = 'Your token is read-only: this needs a token with the Operator role.';
  const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const STATUSES = ['Pending', 'Replaying', 'Replayed', 'Discarded'];
  const FILTER_NAMES = ['status', 'messageType', 'queue', 'key', 'exceptionType', 'text', 'from', 'to'];
  const EFFECT_ID = /^[0-9a-f]{64}$/i;
  const EFFECT_STATES = ['Sending', 'AsyncTask', 'Applied', 'NotApplied', 'Unknown'];
  const EFFECT_FILTER_NAMES = ['state', 'scope', 'key', 'owner'];

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
    effectFilters: {},
    effect: null,
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

  // ------------------------------------------------------------------ routing: #/letters, #/groups, #/letter/<id>, #/effects, #/effect/<id>

  function route() {
    if (!state.session) return;
    const hash = window.location.hash || '#/letters';
    const letterMatch = /^#\/letter\/(.+)$/.exec(hash);
    const effectMatch = /^#\/effect\/(.+)$/.exec(hash);
    $('letters-view').hidden = true;
    $('groups-view').hidden = true;
    $('detail-view').hidden = true;
    $('effects-view').hidden = true;
    $('effect-view').hidden = true;
    $('filters').hidden = false;
    problem('');
    if (!letterMatch) state.letter = null;
    if (!effectMatch) state.effect = null;
    $('tab-letters').removeAttribute('aria-current');
    $('tab-groups').removeAttribute('aria-current');
    $('tab-effects').removeAttribute('aria-current');
    if (effectMatch && EFFECT_ID.test(effectMatch[1])) {
      $('filters').hidden = true;
      $('tab-effects').setAttribute('aria-current', 'page');
      $('effect-view').hidden = false;
      loadEffect(effectMatch[1]);
    } else if (hash === '#/effects') {
      $('filters').hidden = true;
      $('tab-effects').setAttribute('aria-current', 'page');
      $('effects-view').hidden = false;
      loadEffects();
    } else if (letterMatch && GUID.test(letterMatch[1])) {
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

  // ------------------------------------------------------------------ effects: list, show, resolve

  function effectBadge(effectState) {
    const known = EFFECT_STATES.includes(effectState) ? effectState : 'Unknown';
    return h('span', { class: 'status status-effect-' + known.toLowerCase() }, String(effectState));
  }

  /** The evidence in one line: what an operator noted, the reason, how it was decided, or the JSON. */
  function evidenceLine(evidence) {
    if (evidence === null || evidence === undefined) return '';
    if (typeof evidence !== 'object') return String(evidence);
    if (typeof evidence.note === 'string') return (evidence.resolvedBy || '') + ': ' + evidence.note;
    if (typeof evidence.reason === 'string') return evidence.reason;
    if (typeof evidence.how === 'string') return evidence.how;
    return JSON.stringify(evidence);
  }

  function readEffectFilters() {
    const form = $('effect-filters');
    const filters = {};
    for (const name of EFFECT_FILTER_NAMES) {
      const value = form.elements[name].value.trim();
      if (value) filters[name] = value;
    }
    return filters;
  }

  async function loadEffects() {
    const generation = ++state.generation;
    // Busy until the latest load is shown: rows from an earlier filter are never taken for the answer to this one.
    $('effects').setAttribute('aria-busy', 'true');
    let page;
    try {
      page = await api('effects' + query({ ...state.effectFilters, pageSize: 200 }));
    } catch (error) {
      if (generation === state.generation) $('effects').removeAttribute('aria-busy');
      problem(error.message);
      return;
    }
    if (generation !== state.generation) return;
    $('effects').removeAttribute('aria-busy');
    $('effects').tBodies[0].replaceChildren(...page.items.map(effectRow));
    $('effects-empty').hidden = page.items.length > 0;
    const which = page.state ? page.state : 'needing an operator';
    setText('effects-count', (page.total === 1 ? '1 effect ' : page.total + ' effects ') + which);
  }

  function effectRow(effect) {
    return h('tr', { 'data-id': effect.id },
      h('td', null, time(effect.sentAt)),
      h('td', { class: 'status-cell' }, effectBadge(effect.state)),
      h('td', { class: 'key' }, h('a', { href: '#/effect/' + effect.id, title: 'Show effect ' + effect.id }, effect.key)),
      h('td', null, effect.scope),
      h('td', null, effect.group),
      h('td', { class: 'key' }, effect.owner),
      h('td', null, effect.resourceId || ''),
      h('td', { class: 'failure' }, h('span', { title: evidenceLine(effect.evidence) }, shorten(evidenceLine(effect.evidence), 140))));
  }

  async function loadEffect(id) {
    const generation = ++state.generation;
    let effect;
    try {
      effect = await api('effects/' + encodeURIComponent(id));
    } catch (error) {
      problem(error.message);
      return;
    }
    if (generation !== state.generation) return;
    const first = !state.effect || state.effect.id !== effect.id;
    if (first) {
      setText('ef-error', '');
      $('ef-resolve').reset();
    }
    state.effect = effect;
    renderEffect(effect);
    if (first) $('effect-title').focus();
  }

  function renderEffect(effect) {
    setText('ef-id', effect.id);
    $('ef-state').replaceChildren(effectBadge(effect.state));
    setText('ef-why', effect.resolvable
        ? '— waits for an operator' + (effect.notAppliedNotYetBecause ? ' (as applied now; as not applied not yet: ' + effect.notAppliedNotYetBecause + ')' : '')
        : (effect.notResolvableBecause ? '— cannot be resolved: ' + effect.notResolvableBecause : ''));
    const meta = [
      ['Kind', effect.kind],
      ['Scope', effect.scope],
      ['Key', effect.key],
      ['Group', effect.group],
      ['Owner (message)', effect.owner],
      ['Attempt', effect.attempt],
      ['Sent', time(effect.sentAt)],
      ['Last changed', time(effect.updatedAt)],
      ['Async task', effect.asyncTaskId || '(none)'],
      ['Resource', effect.resourceId || '(none)'],
    ];
    $('ef-meta').replaceChildren(...meta.flatMap(([name, value]) => [h('dt', null, name), h('dd', null, value)]));
    setText('ef-evidence', effect.evidence === null || effect.evidence === undefined ? '(none)' : JSON.stringify(effect.evidence, null, 2));
    $('ef-audit').tBodies[0].replaceChildren(...(effect.audit || []).map((entry) =>
      h('tr', null,
        h('td', null, time(entry.at)),
        h('td', null, entry.actor),
        h('td', null, entry.action),
        h('td', null, entry.outcome),
        h('td', { class: 'wrap' }, entry.detail || ''))));

    $('ef-resolve').hidden = !effect.resolvable;
    setText('ef-resource-hint', '(' + resourceHint(effect.scope) + ')');
    for (const input of $('ef-resolve').querySelectorAll('input, textarea')) input.disabled = readOnly();
    enableAction($('ef-resolve-send'), effect.resolvable, 'This effect cannot be resolved now.');
  }

  function resourceHint(scope) {
    const kind = String(scope || '').split(':')[0];
    if (kind === 'payment-statement-line') return 'with "applied": the correction the line made, if any';
    if (kind === 'payment-top-up') return 'with "applied": the payment\'s id, required';
    if (kind === 'correction') return 'with "applied": the correction\'s id, required';
    if (kind === 'closing-document-create') return 'with "applied": the document\'s id, required';
    return 'with "applied"';
  }

  async function resolveEffect() {
    const effect = state.effect;
    if (!effect) return;
    setText('ef-error', '');
    const form = $('ef-resolve');
    const resolution = form.elements.resolution.value;
    const note = $('ef-note').value.trim();
    const resourceId = $('ef-resource').value.trim();
    if (!resolution) {
      setText('ef-error', 'Choose whether it was applied or not.');
      return;
    }
    if (!note) {
      setText('ef-error', 'Write a note: who checked what in ActivePlatform. It is kept in the audit trail.');
      $('ef-note').focus();
      return;
    }
    const request = { resolution, note, attempt: effect.attempt };
    if (resourceId) request.resourceId = resourceId;
    try {
      const result = await api('effects/' + encodeURIComponent(effect.id) + '/resolve', { method: 'POST', json: request });
      notice('Resolved as ' + result.state + '. Now replay its dead letter: '
        + (result.state === 'Applied' ? 'the message is answered without sending.' : 'the effect is sent again.'));
      form.reset();
    } catch (error) {
      setText('ef-error', error.message);
    }
    await loadEffect(effect.id);
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

    $('effect-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      state.effectFilters = readEffectFilters();
      loadEffects();
    });
    $('e-reset').addEventListener('click', () => {
      $('effect-filters').reset();
      state.effectFilters = {};
      loadEffects();
    });
    $('ef-resolve').addEventListener('submit', (event) => {
      event.preventDefault();
      resolveEffect();
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
