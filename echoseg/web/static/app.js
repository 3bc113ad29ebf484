// echoseg viewer: open a session, send a video, poll the job, draw the result.
'use strict';

const $ = (id) => document.getElementById(id);
const SVGNS = 'http://www.w3.org/2000/svg';
let session = null;     // the server's answer to POST /api/sessions
let current = null;     // {job, result, files, frames, fps}
let busy = false;

async function api(method, url, body, headers) {
  let response;
  try {
    response = await fetch(url, {method, body, headers});
  } catch (err) {
    throw new Error('the server did not answer (' + err.message + ')');
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : response.status + ' ' + response.statusText;
    throw new Error(typeof detail === 'string' ? detail : JSON.stringify(detail));
  }
  return data;
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function setProgress(fraction, text) {
  $('progress-box').hidden = false;
  $('progress').value = fraction;
  $('status').textContent = text;
}

function fmt(x, digits) {
  return (x === null || x === undefined || !isFinite(x)) ? 'n/a' : Number(x).toFixed(digits);
}

async function start() {
  try {
    session = await api('POST', '/api/sessions');
  } catch (err) {
    $('model-info').textContent = 'no session: ' + err.message;
    return;
  }
  const base = (p) => (p || '').split('/').pop();
  $('model-info').textContent = 'model ' + base(session.config) + ' + ' + base(session.checkpoint) +
    ' \u00b7 clip length ' + session.num_frames + ' \u00b7 post-processing ' +
    (session.postprocess ? 'on' : 'off') + (session.tta_flip ? ' \u00b7 flip averaging' : '') +
    ' \u00b7 upload limit ' +
    fmt(session.max_upload_mb, 0) + ' MB';
  $('formats').textContent = 'AVI, MP4, NIfTI ... (' + session.suffixes.join(' ') + '), up to ' +
    fmt(session.max_upload_mb, 0) + ' MB';
  $('file').accept = session.suffixes.join(',');
  if (session.samples.length) {
    for (const s of session.samples) {
      const opt = document.createElement('option');
      opt.value = s; opt.textContent = s;
      $('sample').appendChild(opt);
    }
    $('sample-field').hidden = false;
  }
  $('run').disabled = false;
  const sid = encodeURIComponent(session.session);
  setInterval(() => { fetch('/api/sessions/' + sid + '/ping', {method: 'POST'}).catch(() => {}); },
    60000);
  window.addEventListener('pagehide', () => {
    navigator.sendBeacon('/api/sessions/' + sid + '/close');
  });
}

async function run() {
  showError('');
  if (!session || busy) return;
  const file = $('file').files[0];
  const sample = $('sample').value;
  const spacing = $('spacing').value.trim();
  const fps = $('fps').value.trim();
  const root = '/api/sessions/' + encodeURIComponent(session.session);
  let job;
  busy = true;
  $('run').disabled = true;
  try {
    if (file) {
      if (file.size > session.max_upload_mb * 1048576) {
        throw new Error(file.name + ': ' + fmt(file.size / 1048576, 1) +
          ' MB is over the upload limit of ' + fmt(session.max_upload_mb, 0) + ' MB');
      }
      setProgress(0, 'uploading ' + file.name + ' ...');
      const q = new URLSearchParams({filename: file.name, spacing, fps});
      job = await api('PUT', root + '/videos?' + q, file,
        {'Content-Type': 'application/octet-stream'});
    } else if (sample) {
      setProgress(0, 'queueing ' + sample + ' ...');
      job = await api('POST', root + '/samples', JSON.stringify({sample, spacing, fps}),
        {'Content-Type': 'application/json'});
    } else {
      throw new Error('choose a video file (or a sample) first');
    }
    await follow(root + '/jobs/' + job.job);
  } catch (err) {
    $('progress-box').hidden = true;
    showError(err.message);
  } finally {
    busy = false;
    $('run').disabled = false;
  }
}

async function follow(url) {
  for (;;) {
    const st = await api('GET', url);
    if (st.state === 'queued') {
      setProgress(0, 'waiting: ' + st.position + ' video(s) ahead in the queue');
    } else if (st.state === 'running') {
      setProgress(st.progress, st.stage + ' (' + Math.round(st.progress * 100) + ' %)');
    } else if (st.state === 'done') {
      setProgress(1, 'done: ' + st.source);
      show(url, st);
      return;
    } else if (st.state === 'error') {
      throw new Error(st.message);
    } else {
      throw new Error('the job was ' + st.state);
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

function show(url, st) {
  const r = st.result;
  const files = url + '/files/';
  current = {result: r, fps: r.fps || 25, frames: st.frames.map((f) => files + f)};
  $('results').hidden = false;
  $('result-title').textContent = 'Result: ' + (r.video || st.source);

  const ef = $('ef-mean');
  ef.dataset.ef = (r.ef_mean === null || r.ef_mean === undefined) ? '' : String(r.ef_mean);
  ef.textContent = fmt(r.ef_mean, 1) + (isFinite(r.ef_mean) && r.ef_mean !== null ? ' %' : '');
  const used = r.beats.filter((b) => b.used !== false).length;
  let note = r.beats.length ? 'over ' + used + ' of ' + r.beats.length + ' beat(s)' :
    'no complete beat found';
  if (r.ef_note) note += ': ' + r.ef_note;
  $('ef-beats').textContent = note;
  const unit = r.units.volume;
  $('edv-head').textContent = 'EDV (' + unit + ')';
  $('esv-head').textContent = 'ESV (' + unit + ')';
  const body = $('beats').tBodies[0];
  body.replaceChildren();
  r.beats.forEach((b, i) => {
    const tr = document.createElement('tr');
    const cells = [String(i + 1) + (b.partial ? ' (partial)' : ''), b.ed_frame, b.es_frame,
      fmt(b.edv, 1), fmt(b.esv, 1), fmt(b.ef, 1), (b.flags || []).join(', ')];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.appendChild(td);
    }
    tr.className = b.used === false ? 'beat unused' : 'beat';
    if (b.flags && b.flags.length) tr.title = 'flags: ' + b.flags.join(', ');
    body.appendChild(tr);
  });
  const facts = [r.num_frames + ' frames of ' + r.size[0] + ' x ' + r.size[1],
    r.fps ? fmt(r.fps, 1) + ' fps' : 'fps unknown (curve in frames)',
    r.spacing ? 'spacing ' + r.spacing.map((s) => fmt(s, 3)).join(' x ') + ' mm' :
      'no spacing: areas in px\u00b2, volumes in px\u00b3',
    r.heart_rate_bpm ? 'heart rate ' + fmt(r.heart_rate_bpm, 0) + ' bpm' : ''];
  $('facts').textContent = facts.filter(Boolean).join(' \u00b7 ');

  const known = ['masks', 'csv', 'beats', 'json', 'overlay', 'curves'];
  for (const kind of known) {
    const a = $('download-' + kind);
    a.parentElement.hidden = !st.files[kind];
    if (!st.files[kind]) continue;
    a.href = files + encodeURIComponent(st.files[kind]) + '?download=1';
    a.setAttribute('download', st.files[kind]);
    a.title = st.files[kind];
  }
  // any further file the infer writer adds gets a link of its own
  for (const li of document.querySelectorAll('#downloads li.extra')) li.remove();
  for (const [kind, name] of Object.entries(st.files)) {
    if (known.includes(kind) || kind === 'video') continue;
    const li = document.createElement('li');
    const a = document.createElement('a');
    li.className = 'extra';
    a.href = files + encodeURIComponent(name) + '?download=1';
    a.setAttribute('download', name);
    a.textContent = name;
    li.appendChild(a);
    $('downloads').appendChild(li);
  }
  const video = $('overlay-video');
  if (st.files.video) {
    $('frame-view').hidden = true;
    video.hidden = false;
    video.src = files + encodeURIComponent(st.files.video);
    video.play().catch(() => {});
  } else {
    video.hidden = true;
    video.removeAttribute('src');
    $('frame-view').hidden = false;
    $('frame-slider').max = String(current.frames.length - 1);
    showFrame(0);
  }
  $('curve-kind').value = r.curve === 'volume' ? 'volumes' : 'areas';
  drawCurve();
}

function currentFrame() {
  if (!current) return 0;
  const video = $('overlay-video');
  if (!video.hidden) {
    return Math.min(current.result.num_frames - 1, Math.floor(video.currentTime * current.fps + 1e-3));
  }
  return Number($('frame-slider').value);
}

function showFrame(i) {
  $('frame-slider').value = String(i);
  $('frame-image').src = current.frames[i];
  moveCursor(i);
}

function seek(i) {
  const video = $('overlay-video');
  if (!video.hidden) {
    video.pause();
    video.currentTime = (i + 0.5) / current.fps;
    moveCursor(i);
  } else {
    showFrame(i);
  }
}

const PLOT = {w: 800, h: 240, left: 56, right: 12, top: 12, bottom: 30};

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawCurve() {
  const r = current.result;
  const kind = $('curve-kind').value;
  const y = r[kind].map((v) => (v === null ? NaN : v));
  const n = y.length;
  const finite = y.filter(isFinite);
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (!finite.length) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { hi = lo + 1; }
  const pad = 0.08 * (hi - lo);
  lo -= pad; hi += pad;
  const {w, h, left, right, top, bottom} = PLOT;
  const sx = (i) => left + (n > 1 ? i / (n - 1) : 0.5) * (w - left - right);
  const sy = (v) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
  current.sx = sx;
  const root = $('curve');
  root.replaceChildren();
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    root.appendChild(svg('line', {x1: left, x2: w - right, y1: sy(v), y2: sy(v), class: 'grid'}));
    root.appendChild(svg('text', {x: left - 4, y: sy(v) + 4, 'text-anchor': 'end'},
      String(Number(v.toPrecision(3)))));
  }
  $('curve-unit').textContent = kind === 'volumes' ? r.units.volume : r.units.area;
  const ticks = Math.min(8, Math.max(1, n - 1));
  for (let k = 0; k <= ticks; k++) {
    const i = Math.round((n - 1) * k / ticks);
    const label = r.fps ? (i / r.fps).toFixed(2) + ' s' : String(i);
    root.appendChild(svg('text', {x: sx(i), y: h - 10, 'text-anchor': 'middle'}, label));
  }
  let d = '';
  y.forEach((v, i) => { if (isFinite(v)) d += (d ? 'L' : 'M') + sx(i).toFixed(1) + ',' + sy(v).toFixed(1); });
  root.appendChild(svg('path', {d, class: 'line'}));
  const marker = (i, down, cls) => {
    const x = sx(i), yy = sy(y[i]), s = 6;
    const pts = down ? [[x - s, yy - 2 * s], [x + s, yy - 2 * s], [x, yy]] :
      [[x - s, yy + 2 * s], [x + s, yy + 2 * s], [x, yy]];
    const el = svg('polygon', {points: pts.map((p) => p.join(',')).join(' '), class: cls});
    el.appendChild(svg('title', {}, (down ? 'ED' : 'ES') + ' frame ' + i));
    root.appendChild(el);
  };
  r.ed_frames.forEach((i) => marker(i, true, 'ed'));
  r.es_frames.forEach((i) => marker(i, false, 'es'));
  root.appendChild(svg('line', {id: 'cursor', class: 'cursor', x1: sx(0), x2: sx(0), y1: top, y2: h - bottom}));
  moveCursor(currentFrame());
}

function moveCursor(i) {
  const c = document.getElementById('cursor');
  if (!c || !current || !current.sx) return;
  c.setAttribute('x1', current.sx(i));
  c.setAttribute('x2', current.sx(i));
}

function curveClick(event) {
  if (!current) return;
  const root = $('curve');
  const pt = root.createSVGPoint();
  pt.x = event.clientX; pt.y = event.clientY;
  const p = pt.matrixTransform(root.getScreenCTM().inverse());
  const n = current.result.num_frames;
  const i = Math.round((p.x - PLOT.left) / (PLOT.w - PLOT.left - PLOT.right) * (n - 1));
  seek(Math.max(0, Math.min(n - 1, i)));
}

$('run').addEventListener('click', run);
$('file').addEventListener('change', () => { if ($('file').files.length) $('sample').value = ''; });
$('sample').addEventListener('change', () => { if ($('sample').value) $('file').value = ''; });
$('curve-kind').addEventListener('change', () => { if (current) drawCurve(); });
$('curve').addEventListener('click', curveClick);
$('frame-slider').addEventListener('input', () => showFrame(Number($('frame-slider').value)));
$('overlay-video').addEventListener('timeupdate', () => moveCursor(currentFrame()));
start();
