// podalign's web page: submit an episode, follow the job, play it with the words lit up.
"use strict";

const $ = (id) => document.getElementById(id);
const FORMATS = [
  ["vtt", "WebVTT"], ["srt", "SRT"], ["ttml", "TTML"], ["ass", "ASS"],
  ["textgrid", "TextGrid"], ["json", "JSON"], ["gentle", "Gentle JSON"],
];
const BIG_GAP_S = 5;

const state = {
  key: sessionStorage.getItem("podalign-key") || "",
  job: null,
  words: [],      // aligned words only, in time order: {start, end, el}
  cues: [],       // {start, end, text}
  current: -1,    // index into state.words of the highlighted word
  objectUrls: [],
  frame: 0,
};

// ---- HTTP --------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = state.key;
  if (key) headers.set("Authorization", `Bearer ${key}`);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 || response.status === 403) {
    // Ask only if the key this request carried is still the one in use: an answer to a
    // request sent before the person typed their key must not ask again.
    if (key === state.key) askForKey(response.status === 403 ? "That key was not accepted." : "");
    throw new Error("An API key is needed.");
  }
  return response;
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error ? body.error.message : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function askForKey(message) {
  $("key-panel").hidden = false;
  if (message) showError(message);
  $("key-input").focus();
}

// ---- submitting ----------------------------------------------------------------------------

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// The bar and its text show the same number: the share of the whole job (upload included).
function setProgress(fraction, label, withPercent = true) {
  $("progress-box").hidden = false;
  $("progress").value = fraction;
  $("progress-text").textContent = withPercent ? `${label}… ${Math.round(fraction * 100)}%` : label;
}

// English-only models (".en") cannot align other languages: pick a multilingual one and say so.
function modelFor(language) {
  const select = $("model");
  const englishOnly = (name) => /\.en$/.test(name);
  if (!language || language === "en" || !englishOnly(select.value)) return "";
  const multilingual = Array.from(select.options).map((o) => o.value).find((name) => !englishOnly(name));
  if (!multilingual) return "";
  select.value = multilingual;
  const name = $("language").selectedOptions[0].textContent;
  return `${name} needs a multilingual model: using ${multilingual}.`;
}

function onLanguageChange() {
  const note = modelFor($("language").value);
  if (note) $("model-note").textContent = note;
  $("model-note").hidden = !$("model-note").textContent;
}

function firstWords(text) {
  return text.trim().split(/\s+/).slice(0, 10).join(" ").slice(0, 120);
}

function upload(form) {
  // XMLHttpRequest: fetch cannot report upload progress, which matters for a 1 GB episode.
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/v1/alignments");
    if (state.key) request.setRequestHeader("Authorization", `Bearer ${state.key}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) {
        const share = event.loaded / event.total;
        setProgress(share * 0.1, "Uploading");
      }
    };
    request.onload = () => resolve({ status: request.status, body: request.responseText });
    request.onerror = () => reject(new Error("The upload failed: is the service running?"));
    request.send(form);
  });
}

async function submit(event) {
  event.preventDefault();
  showError("");
  const audio = $("audio-input").files[0];
  const text = $("text-input").value;
  if (!audio) return showError("Choose the episode's audio file.");
  if (!text.trim()) return showError("Paste the transcript, or choose a text file.");
  const form = new FormData();
  form.append("audio", audio);
  form.append("text", text);
  form.append("metadata", JSON.stringify({ first_words: firstWords(text) }));
  onLanguageChange();
  if ($("language").value) form.append("language", $("language").value);
  if ($("model").value) form.append("model", $("model").value);
  $("submit-button").disabled = true;
  try {
    const answer = await upload(form);
    if (answer.status === 401 || answer.status === 403) {
      askForKey(answer.status === 403 ? "That key was not accepted." : "");
      return;
    }
    const body = JSON.parse(answer.body);
    if (answer.status >= 400) return showError(body.error ? body.error.message : answer.body);
    history.replaceState(null, "", `#${body.id}`);
    await follow(body.id);
  } catch (error) {
    showError(error.message);
  } finally {
    $("submit-button").disabled = false;
  }
}

const STAGES = {
  queued: "Waiting in the queue", starting: "Starting", loading_model: "Loading the model",
  decode: "Reading the audio", align: "Aligning", refine: "Refining word boundaries",
  done: "Done",
};

async function follow(id) {
  for (;;) {
    const response = await api(`/v1/alignments/${id}`);
    if (!response.ok) return showError(await errorText(response));
    const job = await response.json();
    const where = job.queue_position ? ` (position ${job.queue_position})` : "";
    const stage = STAGES[job.stage] || job.stage;
    setProgress(0.1 + 0.9 * job.progress, `${stage}${where}`);
    if (job.status === "succeeded") {
      setProgress(1, "Done.", false);
      loadRecent();
      await openResult(job);
      $("result-panel").scrollIntoView({ block: "start" });
      return;
    }
    if (job.status === "failed") {
      setProgress(0, "Failed.", false);
      return showError(`The alignment failed: ${job.error.message}`);
    }
    if (job.status === "canceled") return showError("The alignment was canceled.");
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

// ---- the result ----------------------------------------------------------------------------

async function blobUrl(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(await errorText(response));
  const url = URL.createObjectURL(await response.blob());
  state.objectUrls.push(url);
  return url;
}

async function openResult(job) {
  state.objectUrls.forEach((url) => URL.revokeObjectURL(url));
  state.objectUrls = [];
  state.job = job;
  const [wordsResponse, cuesResponse] = await Promise.all([
    api(`/v1/alignments/${job.id}/words`),
    api(`/v1/alignments/${job.id}/captions.json`),
  ]);
  if (!wordsResponse.ok) return showError(await errorText(wordsResponse));
  const result = await wordsResponse.json();
  const cues = await cuesResponse.json();
  renderTranscript(result.words, suspectBelow(result));
  renderSummary(result);
  state.cues = cues.cues.map((c) => ({ start: c.start, end: c.end, text: c.lines.join("\n") }));
  const player = $("player");
  // Without keys the browser streams with range requests; with keys it needs a header, so
  // the audio is fetched whole.
  player.src = state.key ? await blobUrl(`/v1/alignments/${job.id}/audio`) : `/v1/alignments/${job.id}/audio`;
  $("captions-track").src = await blobUrl(`/v1/alignments/${job.id}/captions.vtt`);
  $("captions-track").track.mode = "hidden";
  renderDownloads();
  $("result-title").textContent = `Result: ${job.audio_filename || job.id}`;
  $("result-panel").hidden = false;
  state.current = -1;
  update();
}

function suspectBelow(result) {
  // The engine's own threshold: English-only models are surer of themselves than multilingual
  // ones, which spread probability over more spellings.
  const chosen = result.options && result.options.min_word_probability;
  if (typeof chosen === "number") return chosen;
  return /\.en$/.test(result.model) ? 0.1 : 0.03;
}

function renderTranscript(words, lowScore = 0.1) {
  const box = $("transcript");
  box.textContent = "";
  state.words = [];
  const fragment = document.createDocumentFragment();
  words.forEach((word, i) => {
    const span = document.createElement("span");
    span.textContent = word.text;
    span.className = "w";
    if (word.status === "non_speech") span.classList.add("markup");
    else if (word.status === "not_found") {
      span.classList.add("missing");
      span.title = "Not found in the audio";
    } else {
      if (word.score < lowScore) {
        span.classList.add("low");
        span.title = `Low confidence (${word.score.toFixed(2)})`;
      }
      span.dataset.start = word.start;
      span.dataset.index = state.words.length;
      state.words.push({ start: word.start, end: word.end, el: span });
    }
    fragment.append(span);
    if (i + 1 < words.length) fragment.append(" ");
  });
  box.append(fragment);
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

function renderSummary(result) {
  const speech = result.words.filter((w) => w.status !== "non_speech");
  const found = speech.filter((w) => w.status === "aligned").length;
  const share = speech.length ? Math.round((100 * found) / speech.length) : 0;
  $("summary").textContent =
    `${found} of ${speech.length} words found in the audio (${share}%), ` +
    `${clock(result.duration_s)} of audio, language ${result.language}, model ${result.model}.`;
  const gaps = [];
  // Audio without words: music, an advert, speech that the transcript leaves out.
  let last = 0;
  for (const word of result.words) {
    if (word.status !== "aligned") continue;
    if (word.start - last >= BIG_GAP_S) gaps.push(`no words ${clock(last)}–${clock(word.start)} (music, an ad, or speech not in the text?)`);
    last = word.end;
  }
  if (result.duration_s - last >= BIG_GAP_S) gaps.push(`no words ${clock(last)}–${clock(result.duration_s)}`);
  // Text without audio: runs of words that were not found.
  let run = [];
  const flush = (where) => {
    if (run.length >= 3) gaps.push(`${run.length} words ${where} not in the audio: “${run.slice(0, 6).map((w) => w.text).join(" ")}${run.length > 6 ? " …" : ""}”`);
    run = [];
  };
  let seenAligned = false, lastTime = 0;
  for (const word of result.words) {
    if (word.status === "not_found") { run.push(word); continue; }
    if (word.status !== "aligned") continue;
    flush(seenAligned ? `near ${clock(lastTime)}` : "at the start (a header?)");
    seenAligned = true;
    lastTime = word.end;
  }
  flush("at the end");
  const list = $("gaps");
  list.textContent = "";
  for (const gap of gaps) {
    const item = document.createElement("li");
    item.textContent = gap;
    list.append(item);
  }
}

function renderDownloads() {
  const box = $("download-buttons");
  box.textContent = "";
  for (const [format, label] of FORMATS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = label;
    button.dataset.format = format;
    button.addEventListener("click", () => download(format));
    box.append(button);
  }
}

async function download(format) {
  const params = new URLSearchParams({
    max_chars_per_line: $("max-chars").value,
    max_lines: $("max-lines").value,
    highlight: $("highlight").checked ? "words" : "none",
  });
  const response = await api(`/v1/alignments/${state.job.id}/captions.${format}?${params}`);
  if (!response.ok) return showError(await errorText(response));
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `captions.${format}`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// ---- following the audio -------------------------------------------------------------------

function wordAt(time) {
  // The last word starting at or before `time` (binary search over start times).
  let low = 0, high = state.words.length - 1, found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (state.words[middle].start <= time) { found = middle; low = middle + 1; } else high = middle - 1;
  }
  return found;
}

function cueAt(time) {
  let low = 0, high = state.cues.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const cue = state.cues[middle];
    if (time < cue.start) high = middle - 1;
    else if (time >= cue.end) low = middle + 1;
    else return cue;
  }
  return null;
}

function update() {
  const time = $("player").currentTime;
  const index = wordAt(time);
  if (index !== state.current) {
    // Only the two words whose state changes are touched.
    if (state.current >= 0) state.words[state.current].el.classList.remove("now");
    state.current = index;
    if (index >= 0) {
      const el = state.words[index].el;
      el.classList.add("now");
      follows(el);
    }
  }
  const cue = cueAt(time);
  const text = cue ? cue.text : "";
  if ($("cue").textContent !== text) $("cue").textContent = text;
}

function follows(el) {
  const box = $("transcript");
  const top = el.offsetTop - box.offsetTop;
  if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - el.offsetHeight) {
    box.scrollTop = top - box.clientHeight / 3;
  }
}

function tick() {
  update();
  state.frame = $("player").paused ? 0 : requestAnimationFrame(tick);
}

function seek(seconds) {
  $("player").currentTime = Math.max(0, seconds);
  update();
}

function onKey(event) {
  if (event.target.closest("input, textarea, select, button") || $("result-panel").hidden) return;
  const player = $("player");
  if (event.key === " ") {
    event.preventDefault();
    if (player.paused) player.play(); else player.pause();
  } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
    event.preventDefault();
    const step = event.key === "ArrowRight" ? 1 : -1;
    const target = Math.min(Math.max(state.current + step, 0), state.words.length - 1);
    if (target >= 0) seek(state.words[target].start);
  }
}

// ---- recent alignments and start-up --------------------------------------------------------

// Calls overlap (a finished job and a key change both refresh the list): only the latest
// request may render, and it replaces the list in one step, so entries never double.
let recentRequest = 0;

async function loadRecent() {
  const request = ++recentRequest;
  let items;
  try {
    const response = await api("/v1/alignments?limit=10");
    if (!response.ok) return;
    items = (await response.json()).items;
  } catch { return; }
  if (request !== recentRequest) return;
  const entries = items.map((job) => {
    const item = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = job.audio_filename || job.id;
    open.addEventListener("click", () => { history.replaceState(null, "", `#${job.id}`); reopen(job.id); });
    const status = document.createElement("span");
    status.className = `status-${job.status}`;
    const length = job.audio_duration_s == null ? "" : `${clock(job.audio_duration_s)}, `;
    status.textContent = ` — ${length}${job.status}, ${new Date(job.created_at).toLocaleString()}`;
    item.append(open, status);
    const words = job.metadata && typeof job.metadata.first_words === "string" ? job.metadata.first_words : "";
    if (words) item.append(Object.assign(document.createElement("q"), { className: "first-words", textContent: words }));
    return item;
  });
  const list = $("recent");
  if (entries.length) list.replaceChildren(...entries);
  else list.textContent = "None yet.";
}

async function loadModels() {
  const response = await fetch("/info");
  const info = await response.json();
  const select = $("model");
  for (const name of info.models) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.append(option);
  }
  select.value = info.model;
  onLanguageChange();
  if (info.api_keys_required && !state.key) askForKey("");
}

function dropZone(zone, onFile) {
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) onFile(event.dataTransfer.files);
  });
}

async function readText(file) {
  $("text-input").value = await file.text();
}

function start() {
  $("submit-form").addEventListener("submit", submit);
  $("language").addEventListener("change", onLanguageChange);
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key-input").value.trim();
    sessionStorage.setItem("podalign-key", state.key);
    $("key-panel").hidden = true;
    showError("");
    loadRecent();
  });
  $("text-file").addEventListener("change", () => $("text-file").files[0] && readText($("text-file").files[0]));
  dropZone($("audio-drop"), (files) => { $("audio-input").files = files; });
  dropZone($("text-drop"), (files) => readText(files[0]));
  const player = $("player");
  player.addEventListener("play", () => { if (!state.frame) tick(); });
  for (const name of ["seeked", "timeupdate", "pause"]) player.addEventListener(name, update);
  $("transcript").addEventListener("click", (event) => {
    const start = event.target.dataset && event.target.dataset.start;
    if (start !== undefined) seek(Number(start));
  });
  document.addEventListener("keydown", onKey);
  loadModels().catch((error) => showError(`The service did not answer: ${error.message}`));
  loadRecent();
  if (location.hash.length > 1) reopen(location.hash.slice(1));
}

function reopen(id) {
  showError("");
  follow(id).catch((error) => showError(error.message));
}

start();
