// realtalk playground: a voice call with this server over WebRTC, exactly as a browser app calls the
// OpenAI Realtime API (mint an ephemeral secret, post the SDP offer to /v1/realtime/calls, speak GA events
// on the "oai-events" data channel). Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  const GET_TIME_TOOL = {
    type: "function",
    name: "get_time",
    description: "Get the user's current local date and time. Use it when the user asks what time or day it is.",
    parameters: { type: "object", properties: {}, required: [] },
  };
  // A small model may call the tool again and again: after this many rounds in one turn, ask for words.
  const TOOL_ROUNDS = 2;
  const CONNECT_TIMEOUT_MS = 20000;
  const TURN_TIMEOUT_MS = 30000;
  const REMOTE_THRESHOLD_DB = -50; // synthesized speech: anything above this is the answer being heard
  const MIC_MIN_THRESHOLD_DB = -52; // a voice is at least this loud, and clearly above the room's noise
  const NOISE_MARGIN_DB = 14;
  const POLL_MS = 20;
  const BLOCK = 128; // samples per level block: about 2.7 ms at 48 kHz

  // ---------- state (also exposed as window.playground for tests and debugging) ----------

  const events = []; // every event received on the data channel, in order
  const turns = []; // one latency record per answered turn
  const ui = { state: "idle", reason: "" };
  let call = null; // the live call: {pc, dc, mic, micTrack, callId, secret, startedAt, ...}
  let apiKey = null; // only in this page's memory; sent only to this server's own endpoints
  let audioCtx = null;

  // Turn timing
  const levels = { mic: null, remote: null, lastVoiceAt: null, floorDb: -70, micDb: -100, outDb: -100 };
  let speechStartedAt = null;
  let pending = null; // the turn being timed: end of speech known, first audio not heard yet
  const byResponse = new Map(); // response_id -> latency record (for the chip on its message)

  // Conversation
  const messages = new Map(); // item_id -> {el, bubble, who, role, text, responseId}
  let responding = null; // response_id in progress
  let outputPlaying = false;
  const toolOutputs = new Map(); // response_id -> [{call_id, output, row}]
  let toolRounds = 0; // tool answers sent since the user last spoke
  let serverSession = null;

  // ---------- status ----------

  const STATUS_TEXT = {
    idle: "Ready to connect",
    needs_key: "API key required",
    connecting: "Connecting…",
    live: "Live · speak any time",
    ending: "Hanging up…",
    ended: "Call ended",
    error: "Error",
  };

  function setState(state, reason = "") {
    ui.state = state;
    ui.reason = reason;
    const status = $("status");
    status.dataset.state = state;
    let text = STATUS_TEXT[state];
    if (state === "connecting" && reason) text = reason;
    else if (state === "error") text = reason || text;
    else if (reason) text = `${text} · ${reason}`;
    if (state === "live" && call && call.micTrack && !call.micTrack.enabled) text = "Live · microphone muted";
    $("status-text").textContent = text;
    status.title = text;
    const inCall = state === "connecting" || state === "live" || state === "ending";
    $("connect").hidden = inCall;
    $("hangup").hidden = !inCall;
    $("hangup").disabled = state === "ending";
    $("connect").querySelector("span").textContent = state === "ended" || state === "error" ? "Call again" : "Connect";
    $("mute").disabled = state !== "live";
    $("settings-note").textContent = state === "live" ? "changes apply at once" : "applies to the next call";
    $("keycard").hidden = state !== "needs_key";
    updateInterrupt();
  }

  function updateInterrupt() {
    $("interrupt").disabled = !(ui.state === "live" && (responding || outputPlaying));
  }

  // ---------- errors in plain words ----------

  class NeedsKey extends Error {}

  async function httpError(resp, what) {
    let detail = "";
    try {
      const body = await resp.json();
      detail = (body && body.error && body.error.message) || "";
    } catch (_) {
      /* not JSON */
    }
    return new Error(`${what}: ${detail || resp.statusText || "no reason given"} (HTTP ${resp.status})`);
  }

  async function request(url, options, what) {
    try {
      return await fetch(url, options);
    } catch (_) {
      throw new Error(`${what}: the server at ${location.host} cannot be reached. Is realtalk still running?`);
    }
  }

  function micError(err) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return new Error(
        "This browser only opens the microphone on https:// pages or on localhost. Open the playground as " +
          "http://localhost:PORT/ on this machine, or serve realtalk behind TLS.",
      );
    }
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return new Error("Microphone access was denied. Allow it in the browser's site settings, then call again.");
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") return new Error("No microphone was found.");
    if (name === "NotReadableError") return new Error("The microphone is in use by another application.");
    return new Error(`The microphone could not be opened: ${(err && err.message) || err}`);
  }

  // ---------- session settings ----------

  function turnDetection() {
    const kind = document.querySelector('input[name="turn"]:checked').value;
    return kind === "semantic_vad" ? { type: "semantic_vad", eagerness: $("eagerness").value } : { type: "server_vad" };
  }

  function sessionConfig() {
    const session = {
      type: "realtime",
      audio: {
        input: { transcription: { model: "whisper-1" }, turn_detection: turnDetection() },
        output: { voice: $("voice").value },
      },
    };
    const instructions = $("instructions").value.trim();
    if (instructions) session.instructions = instructions;
    if ($("tool").checked) session.tools = [GET_TIME_TOOL];
    return session;
  }

  function update(session) {
    if (ui.state !== "live") return;
    send({ type: "session.update", session: { type: "realtime", ...session } });
  }

  // ---------- connect / hang up ----------

  async function connect() {
    if (call) return;
    resetConversation();
    setState("connecting", "Starting a session…");
    audioCtx = audioCtx || new AudioContext();
    audioCtx.resume().catch(() => {});
    const attempt = { pc: null, dc: null, mic: null, micTrack: null, callId: null, secret: null, startedAt: 0 };
    call = attempt;
    try {
      // (a) an ephemeral secret for this call
      const headers = { "Content-Type": "application/json" };
      if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
      const minted = await request(
        "/v1/realtime/client_secrets",
        { method: "POST", headers, body: JSON.stringify({ session: sessionConfig() }) },
        "Could not start a session",
      );
      if (minted.status === 401) throw new NeedsKey(apiKey ? "That key was refused. Check it and try again." : "");
      if (!minted.ok) throw await httpError(minted, "Could not start a session");
      const secret = await minted.json();
      if (!secret || typeof secret.value !== "string") throw new Error("The server minted no client secret.");
      attempt.secret = secret.value;
      if (call !== attempt) return;

      // (b) the microphone, the peer connection and the data channel
      setState("connecting", "Opening the microphone…");
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw micError(null);
      try {
        attempt.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (err) {
        throw micError(err);
      }
      if (call !== attempt) return stopTracks(attempt.mic);
      attempt.micTrack = attempt.mic.getAudioTracks()[0];
      levels.mic = analyser(attempt.mic);

      setState("connecting", "Calling the server…");
      const pc = new RTCPeerConnection();
      attempt.pc = pc;
      pc.ontrack = (e) => {
        const stream = e.streams[0] || new MediaStream([e.track]);
        $("remote-audio").srcObject = stream;
        levels.remote = analyser(stream);
        note("remote audio track", { kind: e.track.kind, id: e.track.id });
      };
      pc.onconnectionstatechange = () => onConnectionState(attempt);
      pc.addTrack(attempt.micTrack, attempt.mic);
      const dc = pc.createDataChannel("oai-events");
      attempt.dc = dc;
      dc.onopen = () => {
        if (call !== attempt) return;
        attempt.startedAt = performance.now();
        setState("live");
        note("data channel open", { label: dc.label });
        startStats(attempt);
      };
      dc.onmessage = (e) => onServerEvent(e.data);
      dc.onclose = () => {
        if (call === attempt && ui.state === "live") end("the server closed the call");
      };

      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const answer = await request(
        "/v1/realtime/calls",
        {
          method: "POST",
          body: offer.sdp,
          headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${attempt.secret}` },
        },
        "The call could not be placed",
      );
      if (answer.status !== 201) throw await httpError(answer, "The server refused the call");
      const location = answer.headers.get("Location") || "";
      attempt.callId = location.split("/").filter(Boolean).pop() || null;
      const sdp = await answer.text();
      if (call !== attempt) return;
      await pc.setRemoteDescription({ type: "answer", sdp });
      $("call-info").textContent = attempt.callId || "";
      note("call placed", { call_id: attempt.callId, location });
      setState("connecting", "Connecting audio…");
      setTimeout(() => {
        if (call === attempt && ui.state === "connecting") {
          fail(
            new Error(
              "The audio connection could not be established. If the server runs on another machine, start it " +
                "with --webrtc-host-ip set to an address this browser can reach.",
            ),
          );
        }
      }, CONNECT_TIMEOUT_MS);
    } catch (err) {
      if (call !== attempt) return;
      if (err instanceof NeedsKey) {
        teardown();
        setState("needs_key");
        $("key-error").textContent = err.message;
        $("key-error").hidden = !err.message;
        $("api-key").focus();
        return;
      }
      fail(err);
    }
  }

  function onConnectionState(attempt) {
    if (call !== attempt) return;
    const state = attempt.pc.connectionState;
    note(`connection ${state}`, {});
    if (state === "failed") fail(new Error("The audio connection failed (the network path to the server was lost)."));
    else if (state === "disconnected" && ui.state === "live") $("status-text").textContent = "Live · reconnecting…";
    else if (state === "connected" && ui.state === "live") setState("live");
  }

  async function hangup() {
    const current = call;
    if (!current) return;
    setState("ending");
    if (current.callId) {
      try {
        const resp = await fetch(`/v1/realtime/calls/${encodeURIComponent(current.callId)}/hangup`, {
          method: "POST",
          headers: { Authorization: `Bearer ${current.secret}` },
        });
        note("hangup", { status: resp.status });
        if (!resp.ok && resp.status !== 404) addSystem((await httpError(resp, "Hanging up")).message, true);
      } catch (_) {
        /* the server is gone: the call is over anyway */
      }
    }
    end("you hung up");
  }

  function end(reason) {
    teardown();
    setState("ended", reason);
  }

  function fail(err) {
    teardown();
    const message = (err && err.message) || String(err);
    setState("error", message);
    addSystem(message, true);
  }

  function stopTracks(stream) {
    if (stream) stream.getTracks().forEach((t) => t.stop());
  }

  function teardown() {
    const current = call;
    call = null;
    if (current) {
      if (current.stats) clearInterval(current.stats);
      try {
        if (current.dc) current.dc.close();
      } catch (_) {
        /* already closed */
      }
      if (current.pc) current.pc.close();
      stopTracks(current.mic);
      lastCall.pc = current.pc;
    }
    for (const key of ["mic", "remote"]) {
      if (levels[key]) levels[key].source.disconnect();
      levels[key] = null;
    }
    $("remote-audio").srcObject = null;
    responding = null;
    outputPlaying = false;
    pending = null;
    for (const msg of messages.values()) settle(msg);
    $("mute").setAttribute("aria-pressed", "false");
    $("mute").querySelector("span").textContent = "Mute";
    $("mic-meter").dataset.muted = "false";
  }
  const lastCall = { pc: null }; // the closed call's peer connection stays inspectable

  function send(event) {
    if (!call || !call.dc || call.dc.readyState !== "open") return false;
    call.dc.send(JSON.stringify(event));
    logEvent("sent", event);
    return true;
  }

  function toggleMute() {
    if (!call || !call.micTrack) return;
    call.micTrack.enabled = !call.micTrack.enabled;
    const muted = !call.micTrack.enabled;
    $("mute").setAttribute("aria-pressed", String(muted));
    $("mute").querySelector("span").textContent = muted ? "Unmute" : "Mute";
    $("mic-meter").dataset.muted = String(muted);
    setState("live");
  }

  function interrupt() {
    if (responding) send({ type: "response.cancel" });
    if (outputPlaying) send({ type: "output_audio_buffer.clear" });
  }

  // ---------- server events ----------

  function onServerEvent(raw) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch (_) {
      note("unreadable event", { raw: String(raw).slice(0, 200) });
      return;
    }
    event._at = performance.now();
    events.push(event);
    logEvent("recv", event);
    const handler = HANDLERS[event.type];
    if (handler) handler(event, event._at);
  }

  const HANDLERS = {
    "session.created": (e) => {
      serverSession = e.session;
    },
    "session.updated": (e) => {
      const before = serverSession;
      serverSession = e.session;
      const changed = describeChange(before, e.session);
      if (changed) addSystem(`Session updated: ${changed}`);
    },
    "input_audio_buffer.speech_started": (e, at) => {
      speechStartedAt = at;
      toolRounds = 0;
      pending = null; // still talking: the last turn's answer, if any, is no longer awaited
      userMessage(e.item_id);
    },
    "input_audio_buffer.speech_stopped": (e, at) => {
      const voice = levels.lastVoiceAt;
      const heardVoice = voice !== null && speechStartedAt !== null && voice >= speechStartedAt - 500;
      pending = {
        itemId: e.item_id,
        endOfSpeech: heardVoice ? Math.min(voice, at) : at,
        estimated: !heardVoice,
        speechStopped: at,
        audioStarted: null,
        responseId: null,
        armed: !outputPlaying, // an answer still playing is not this turn's answer
      };
    },
    "conversation.item.input_audio_transcription.delta": (e) => {
      const msg = userMessage(e.item_id);
      msg.text += e.delta || "";
      render(msg);
    },
    "conversation.item.input_audio_transcription.completed": (e) => {
      const msg = userMessage(e.item_id);
      msg.text = (e.transcript || "").trim();
      msg.final = true;
      settle(msg);
    },
    "conversation.item.input_audio_transcription.failed": (e) => {
      const msg = userMessage(e.item_id);
      msg.text = "(not transcribed)";
      msg.final = true;
      settle(msg);
    },
    "conversation.item.added": (e) => {
      const item = e.item || {};
      if (item.type === "message" && item.role === "user" && !messages.has(item.id)) {
        const text = (item.content || [])
          .map((c) => c.text || c.transcript || "")
          .join(" ")
          .trim();
        if (text) {
          const msg = userMessage(item.id);
          msg.text = text;
          msg.final = true;
          settle(msg);
        }
      }
    },
    "response.created": (e) => {
      responding = e.response && e.response.id;
      updateInterrupt();
    },
    "response.output_audio_transcript.delta": (e) => assistantDelta(e, e.delta),
    "response.output_text.delta": (e) => assistantDelta(e, e.delta),
    "response.output_audio_transcript.done": (e) => assistantDone(e, e.transcript),
    "response.output_text.done": (e) => assistantDone(e, e.text),
    "response.function_call_arguments.done": (e) => callTool(e),
    "response.done": (e) => {
      const response = e.response || {};
      if (responding === response.id) responding = null;
      updateInterrupt();
      for (const msg of messages.values()) {
        if (msg.responseId !== response.id) continue;
        if (response.status === "cancelled") markCut(msg, "interrupted");
        settle(msg);
      }
      if (response.status === "failed" || response.status === "incomplete") {
        const details = response.status_details || {};
        const why = (details.error && details.error.message) || details.reason || "";
        const said = why ? `: ${why.replace(/[.\s]+$/, "")}` : "";
        addSystem(`The response ended ${response.status}${said}.`, response.status === "failed");
      }
      answerTools(response.id);
    },
    "output_audio_buffer.started": (e, at) => {
      outputPlaying = true;
      updateInterrupt();
      if (pending && !pending.audioStarted) {
        pending.audioStarted = at;
        pending.responseId = e.response_id || responding;
        pending.armed = true;
      } else if (!pending) {
        const record = turns[turns.length - 1];
        if (record && record.serverMs === null && record.responseId === e.response_id) finishServerPart(record, at);
      }
    },
    "output_audio_buffer.stopped": () => {
      outputPlaying = false;
      updateInterrupt();
    },
    "output_audio_buffer.cleared": () => {
      outputPlaying = false;
      updateInterrupt();
    },
    "conversation.item.truncated": (e) => {
      const msg = messages.get(e.item_id);
      if (msg) markCut(msg, `cut off at ${(e.audio_end_ms / 1000).toFixed(1)} s`);
    },
    error: (e) => {
      const err = e.error || {};
      addSystem(`Server error: ${err.message || "unknown error"}${err.param ? ` (${err.param})` : ""}`, true);
      if (serverSession && err.param && /voice/.test(err.param)) syncVoice();
    },
  };

  function describeChange(before, after) {
    if (!before || !after) return "";
    const parts = [];
    const voice = (s) => s.audio && s.audio.output && s.audio.output.voice;
    const td = (s) => {
      const t = s.audio && s.audio.input && s.audio.input.turn_detection;
      return t ? (t.type === "semantic_vad" ? `semantic_vad (${t.eagerness || "auto"})` : t.type) : "off";
    };
    if (voice(before) !== voice(after)) parts.push(`voice ${voice(after)}`);
    if (td(before) !== td(after)) parts.push(`turn detection ${td(after)}`);
    if ((before.tools || []).length !== (after.tools || []).length) {
      parts.push((after.tools || []).length ? "get_time tool on" : "tools off");
    }
    if (before.instructions !== after.instructions) parts.push("new instructions");
    return parts.join(", ");
  }

  function syncVoice() {
    const voice = serverSession.audio && serverSession.audio.output && serverSession.audio.output.voice;
    if (voice) $("voice").value = voice;
  }

  // ---------- tools ----------

  function callTool(e) {
    const output = e.name === "get_time" ? currentTime() : { error: `This page has no tool named ${e.name}.` };
    const args = (e.arguments || "").replace(/\s+/g, "");
    const row = addTool(e.name, args === "{}" ? "" : args, output);
    const list = toolOutputs.get(e.response_id) || [];
    list.push({ call_id: e.call_id, output: JSON.stringify(output), row });
    toolOutputs.set(e.response_id, list);
  }

  function currentTime() {
    const now = new Date();
    return {
      time: now.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
      date: now.toLocaleDateString("en-US", { weekday: "long", month: "long", day: "numeric", year: "numeric" }),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
  }

  function answerTools(responseId) {
    const list = toolOutputs.get(responseId);
    if (!list) return;
    toolOutputs.delete(responseId);
    for (const { call_id, output } of list) {
      send({ type: "conversation.item.create", item: { type: "function_call_output", call_id, output } });
    }
    toolRounds += 1;
    if (toolRounds < TOOL_ROUNDS) {
      send({ type: "response.create" });
    } else {
      addSystem("The model keeps calling tools: asking it to answer in words.");
      send({ type: "response.create", response: { tool_choice: "none" } });
    }
  }

  // ---------- conversation ----------

  function resetConversation() {
    messages.clear();
    toolOutputs.clear();
    byResponse.clear();
    events.length = 0;
    turns.length = 0;
    pending = null;
    speechStartedAt = null;
    serverSession = null;
    levels.lastVoiceAt = null;
    lastCall.pc = null;
    const chat = $("chat");
    chat.replaceChildren($("empty"));
    $("empty").hidden = false;
    $("log").replaceChildren();
    log.rows = [];
    log.count = 0;
    $("log-count").textContent = "0";
    $("call-info").textContent = "";
    renderTurns();
  }

  function append(el) {
    const chat = $("chat");
    $("empty").hidden = true;
    const stick = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
    chat.appendChild(el);
    if (stick) chat.scrollTop = chat.scrollHeight;
  }

  function newMessage(role, itemId) {
    const el = document.createElement("div");
    el.className = `msg msg-${role}`;
    el.dataset.pending = "true";
    const who = document.createElement("div");
    who.className = "msg-who";
    const name = document.createElement("span");
    name.textContent = role === "user" ? "You" : "Assistant";
    who.appendChild(name);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    el.append(who, bubble);
    const msg = { el, who, bubble, role, itemId, text: "", final: false, responseId: null, cut: null };
    messages.set(itemId, msg);
    render(msg);
    append(el);
    return msg;
  }

  function userMessage(itemId) {
    return messages.get(itemId) || newMessage("user", itemId);
  }

  function assistantDelta(e, delta) {
    let msg = messages.get(e.item_id);
    if (!msg) {
      msg = newMessage("assistant", e.item_id);
      msg.responseId = e.response_id;
      showLatency(msg);
    }
    msg.text += delta || "";
    render(msg);
  }

  function assistantDone(e, text) {
    const msg = messages.get(e.item_id) || newMessage("assistant", e.item_id);
    msg.responseId = msg.responseId || e.response_id;
    if (typeof text === "string" && text) msg.text = text;
    msg.final = true;
    settle(msg);
  }

  function render(msg) {
    const chat = $("chat");
    const stick = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
    if (msg.role === "user" && !msg.text) {
      msg.bubble.textContent = msg.final ? "(no words heard)" : "Listening";
      msg.el.dataset.empty = "true";
    } else {
      msg.bubble.textContent = msg.text;
      msg.el.dataset.empty = "false";
    }
    if (stick) chat.scrollTop = chat.scrollHeight;
  }

  function settle(msg) {
    msg.el.dataset.pending = "false";
    if (msg.role === "user" && !msg.text) msg.final = true;
    render(msg);
  }

  function markCut(msg, why) {
    if (msg.cut) return;
    msg.cut = why;
    msg.el.dataset.cut = "true";
    const tag = document.createElement("span");
    tag.className = "tag tag-cut";
    tag.textContent = why;
    msg.who.appendChild(tag);
  }

  function showLatency(msg) {
    const record = msg.responseId && byResponse.get(msg.responseId);
    if (!record || msg.role !== "assistant") return;
    let tag = msg.who.querySelector(".tag-latency");
    if (!tag) {
      tag = document.createElement("span");
      tag.className = "tag tag-latency";
      msg.who.appendChild(tag);
    }
    tag.textContent = ms(record.latencyMs);
    tag.title =
      `end of speech → first audio heard ${ms(record.latencyMs)}` +
      (record.serverMs !== null ? `; server ${ms(record.serverMs)}` : "");
  }

  function addSystem(text, isError = false) {
    const row = document.createElement("div");
    row.className = `sys-row${isError ? " sys-error" : ""}`;
    row.textContent = text;
    append(row);
  }

  function addTool(name, args, output) {
    const row = document.createElement("div");
    row.className = "tool-row";
    const code = document.createElement("code");
    code.textContent = `${name}(${args})`;
    const result = output.error ? output.error : `${output.time}, ${output.date}`;
    row.append("Tool call ", code, ` → ${result}`);
    append(row);
    return row;
  }

  // ---------- levels and turn latency ----------

  function analyser(stream) {
    const source = audioCtx.createMediaStreamSource(stream);
    const node = audioCtx.createAnalyser();
    node.fftSize = 2048;
    source.connect(node);
    return { source, node, buffer: new Float32Array(node.fftSize), seenUntil: 0 };
  }

  // The blocks of the analyser's window not looked at yet, each as [end time (performance.now ms), level dBFS].
  function freshBlocks(meter, now) {
    meter.node.getFloatTimeDomainData(meter.buffer);
    const rate = audioCtx.sampleRate;
    const n = meter.buffer.length;
    const blocks = [];
    for (let start = 0; start + BLOCK <= n; start += BLOCK) {
      const end = now - ((n - start - BLOCK) * 1000) / rate;
      if (end <= meter.seenUntil) continue;
      let sum = 0;
      for (let i = start; i < start + BLOCK; i++) sum += meter.buffer[i] * meter.buffer[i];
      blocks.push([end, 10 * Math.log10(sum / BLOCK + 1e-12)]);
    }
    if (blocks.length) meter.seenUntil = blocks[blocks.length - 1][0];
    return blocks;
  }

  function poll() {
    if (!audioCtx) return;
    const now = performance.now();
    let micPeak = -100;
    let outPeak = -100;
    if (levels.mic) {
      const threshold = Math.max(MIC_MIN_THRESHOLD_DB, levels.floorDb + NOISE_MARGIN_DB);
      for (const [at, db] of freshBlocks(levels.mic, now)) {
        // the noise floor follows quiet moments at once and loud ones slowly (about 2 dB a second)
        levels.floorDb = db < levels.floorDb ? Math.max(db, -90) : levels.floorDb + 0.005;
        if (db > threshold && call && call.micTrack && call.micTrack.enabled) levels.lastVoiceAt = at;
        micPeak = Math.max(micPeak, db);
      }
    }
    if (levels.remote) {
      for (const [at, db] of freshBlocks(levels.remote, now)) {
        outPeak = Math.max(outPeak, db);
        if (db > REMOTE_THRESHOLD_DB && pending && pending.armed && at > pending.endOfSpeech) heard(at);
      }
    }
    if (pending && now - pending.speechStopped > TURN_TIMEOUT_MS) pending = null;
    levels.micDb = smooth(levels.micDb, micPeak);
    levels.outDb = smooth(levels.outDb, outPeak);
    meter("mic-meter", call && call.micTrack && !call.micTrack.enabled ? -100 : levels.micDb);
    meter("out-meter", levels.outDb);
  }

  function smooth(previous, peak) {
    return peak > previous ? peak : previous - 1.5; // fast attack, slow release
  }

  function meter(id, db) {
    const fraction = Math.min(1, Math.max(0, (db + 60) / 54));
    const el = $(id);
    el.querySelector(".meter-fill").style.width = `${(fraction * 100).toFixed(1)}%`;
    el.dataset.active = String(fraction > 0.15);
  }

  function heard(at) {
    const turn = pending;
    pending = null;
    const record = {
      turn: turns.length + 1,
      itemId: turn.itemId,
      responseId: turn.responseId || responding,
      latencyMs: at - turn.endOfSpeech,
      detectionMs: Math.max(0, turn.speechStopped - turn.endOfSpeech),
      serverMs: null,
      playoutMs: null,
      endOfSpeechEstimated: turn.estimated,
      endOfSpeechAt: turn.endOfSpeech,
      speechStoppedAt: turn.speechStopped,
      audioStartedAt: null,
      heardAt: at,
    };
    turns.push(record);
    if (turn.audioStarted !== null) finishServerPart(record, turn.audioStarted);
    if (record.responseId) byResponse.set(record.responseId, record);
    for (const msg of messages.values()) if (msg.responseId === record.responseId) showLatency(msg);
    renderTurns();
  }

  function finishServerPart(record, audioStarted) {
    record.audioStartedAt = audioStarted;
    record.serverMs = Math.max(0, audioStarted - record.speechStoppedAt);
    record.playoutMs = Math.max(0, record.heardAt - audioStarted);
    for (const msg of messages.values()) if (msg.responseId === record.responseId) showLatency(msg);
    renderTurns();
  }

  function median(values) {
    const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
    if (!sorted.length) return null;
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function ms(value) {
    return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
  }

  function renderTurns() {
    const mid = median(turns.map((t) => t.latencyMs));
    const big = $("lat-median");
    big.textContent = mid === null ? "—" : String(Math.round(mid));
    if (mid !== null) {
      const unit = document.createElement("small");
      unit.textContent = "ms";
      big.appendChild(unit);
    }
    const last = turns[turns.length - 1];
    $("lat-last").textContent = last ? ms(last.latencyMs) : "—";
    $("lat-server").textContent = ms(median(turns.map((t) => t.serverMs)));
    $("lat-count").textContent = String(turns.length);
    const shown = turns.slice(-8);
    const scale = Math.max(1500, ...shown.map((t) => t.latencyMs));
    const list = $("turns");
    list.replaceChildren(
      ...shown.map((t) => {
        const li = document.createElement("li");
        li.className = "turn";
        const n = document.createElement("span");
        n.className = "turn-n";
        n.textContent = `#${t.turn}`;
        const bar = document.createElement("span");
        bar.className = "turn-bar";
        const server = t.serverMs === null ? 0 : Math.min(t.serverMs, t.latencyMs - t.detectionMs);
        const play = Math.max(0, t.latencyMs - t.detectionMs - server);
        for (const [cls, value, label] of [
          ["seg-detect", t.detectionMs, "turn detection"],
          ["seg-server", server, "server"],
          ["seg-play", play, "network & playout"],
        ]) {
          const seg = document.createElement("i");
          seg.className = cls;
          seg.style.width = `${((100 * Math.max(0, value)) / scale).toFixed(2)}%`;
          seg.title = `${label}: ${ms(value)}`;
          bar.appendChild(seg);
        }
        const total = document.createElement("span");
        total.className = "turn-ms";
        total.textContent = ms(t.latencyMs);
        li.append(n, bar, total);
        li.title =
          `end of speech → speech_stopped ${ms(t.detectionMs)}, → output_audio_buffer.started ` +
          `${ms(t.serverMs)}, → first audio heard ${ms(t.latencyMs)}` +
          (t.endOfSpeechEstimated ? " (end of speech not heard on the microphone: measured from speech_stopped)" : "");
        return li;
      }),
    );
  }

  // ---------- connection stats ----------

  function startStats(attempt) {
    const tick = async () => {
      if (call !== attempt || !attempt.pc) return;
      const report = await attempt.pc.getStats();
      let codec = "";
      let rtt = null;
      let jitter = null;
      const codecs = new Map();
      report.forEach((s) => {
        if (s.type === "codec") codecs.set(s.id, s);
      });
      report.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          const c = codecs.get(s.codecId);
          if (c) codec = `${c.mimeType.replace("audio/", "")} ${Math.round(c.clockRate / 1000)} kHz`;
          if (typeof s.jitter === "number") jitter = s.jitter * 1000;
        }
        if (s.type === "candidate-pair" && s.nominated && typeof s.currentRoundTripTime === "number") {
          rtt = s.currentRoundTripTime * 1000;
        }
      });
      const parts = [attempt.callId, codec, rtt !== null ? `RTT ${Math.round(rtt)} ms` : ""];
      if (jitter !== null) parts.push(`jitter ${Math.round(jitter)} ms`);
      $("call-info").textContent = parts.filter(Boolean).join(" · ");
    };
    attempt.stats = setInterval(() => tick().catch(() => {}), 1000);
  }

  // ---------- event log ----------

  const log = { rows: [], count: 0 };
  const NOISY = /\.delta$|^input_audio_buffer\.append$/;

  function since(at) {
    const origin = (call && call.startedAt) || at;
    return ((at - origin) / 1000).toFixed(3);
  }

  function summary(e) {
    const pick = (...keys) =>
      keys
        .filter((k) => e[k] !== undefined && e[k] !== null && e[k] !== "")
        .map((k) => `${k}=${typeof e[k] === "object" ? JSON.stringify(e[k]) : e[k]}`)
        .join(" ");
    switch (e.type) {
      case "error":
        return (e.error && e.error.message) || "";
      case "session.created":
      case "session.updated":
      case "session.update": {
        const s = e.session || {};
        const a = s.audio || {};
        const bits = [];
        if (a.output && a.output.voice) bits.push(`voice=${a.output.voice}`);
        if (a.input && a.input.turn_detection !== undefined) {
          bits.push(`turn_detection=${a.input.turn_detection ? a.input.turn_detection.type : "null"}`);
        }
        if (s.tools) bits.push(`tools=${s.tools.length}`);
        if (s.instructions !== undefined) bits.push(`instructions="${String(s.instructions).slice(0, 40)}…"`);
        return bits.join(" ");
      }
      case "conversation.item.input_audio_transcription.completed":
        return JSON.stringify(e.transcript || "");
      case "response.output_audio_transcript.done":
        return JSON.stringify(e.transcript || "");
      case "response.output_text.done":
        return JSON.stringify(e.text || "");
      case "response.function_call_arguments.done":
        return `${e.name}(${e.arguments || ""})`;
      case "response.created":
      case "response.done": {
        const r = e.response || {};
        return `${r.id || ""} ${r.status || ""}`.trim();
      }
      case "conversation.item.added":
      case "conversation.item.done":
      case "conversation.item.create": {
        const item = e.item || {};
        return [item.id, item.type, item.role, item.call_id && `call_id=${item.call_id}`].filter(Boolean).join(" ");
      }
      case "input_audio_buffer.speech_started":
        return pick("item_id", "audio_start_ms");
      case "input_audio_buffer.speech_stopped":
        return pick("item_id", "audio_end_ms");
      case "conversation.item.truncated":
        return pick("item_id", "audio_end_ms");
      default:
        return pick("item_id", "response_id", "call_id");
    }
  }

  function logEvent(dir, event) {
    const at = event._at || performance.now();
    const type = event.type || "(no type)";
    const last = log.rows[log.rows.length - 1];
    log.count += 1;
    $("log-count").textContent = String(log.count);
    const key = event.item_id || event.response_id || "";
    if (NOISY.test(type) && last && last.dir === dir && last.type === type && last.key === key) {
      last.times += 1;
      last.data = event;
      if (typeof event.delta === "string") last.text += event.delta;
      last.sum.textContent = last.text ? JSON.stringify(last.text) : summary(event);
      last.timesEl.textContent = `×${last.times}`;
      if (last.pre) last.pre.textContent = pretty(last);
      return;
    }
    const el = document.createElement("div");
    el.className = `ev ev-${dir}${type === "error" ? " ev-error" : ""}${NOISY.test(type) ? " ev-noise" : ""}`;
    const line = document.createElement("div");
    line.className = "ev-line";
    const time = document.createElement("span");
    time.className = "ev-time";
    time.textContent = dir === "note" ? "" : since(at);
    const arrow = document.createElement("span");
    arrow.className = "ev-dir";
    arrow.textContent = dir === "sent" ? "↑" : dir === "recv" ? "↓" : "•";
    arrow.title = dir === "sent" ? "sent by this page" : dir === "recv" ? "received from the server" : "page";
    const name = document.createElement("span");
    name.className = "ev-type";
    name.textContent = type;
    const sum = document.createElement("span");
    sum.className = "ev-sum";
    const timesEl = document.createElement("span");
    timesEl.className = "ev-times";
    const row = { el, dir, type, key, data: event, times: 1, text: "", sum, timesEl, pre: null };
    if (typeof event.delta === "string" && NOISY.test(type)) row.text = event.delta;
    sum.textContent = row.text ? JSON.stringify(row.text) : summary(event);
    name.append(" ", timesEl);
    line.append(time, arrow, name, sum);
    line.addEventListener("click", () => toggleRow(row));
    el.appendChild(line);
    log.rows.push(row);
    applyFilter(row);
    const list = $("log");
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(el);
    if (log.rows.length > 3000) log.rows.shift().el.remove();
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function note(what, data) {
    logEvent("note", { type: what, ...data, _at: performance.now() });
  }

  function pretty(row) {
    const shown = { ...row.data };
    delete shown._at;
    if (row.times > 1) {
      shown.delta = row.text;
      return `// ${row.times} events merged; their deltas joined\n${JSON.stringify(shown, null, 2)}`;
    }
    return JSON.stringify(shown, null, 2);
  }

  function toggleRow(row) {
    if (row.pre) {
      row.pre.remove();
      row.pre = null;
      row.el.dataset.open = "false";
      return;
    }
    row.pre = document.createElement("pre");
    row.pre.textContent = pretty(row);
    row.el.appendChild(row.pre);
    row.el.dataset.open = "true";
  }

  function applyFilter(row) {
    const query = $("log-filter").value.trim().toLowerCase();
    const showSent = $("log-sent").checked;
    const matches = !query || `${row.type} ${row.sum.textContent}`.toLowerCase().includes(query);
    row.el.hidden = !matches || (!showSent && row.dir === "sent");
  }

  // ---------- wiring ----------

  function init() {
    $("connect").addEventListener("click", () => connect());
    $("hangup").addEventListener("click", () => hangup());
    $("mute").addEventListener("click", toggleMute);
    $("interrupt").addEventListener("click", interrupt);
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) {
        $("key-error").textContent = "Enter the key the server was started with.";
        $("key-error").hidden = false;
        return;
      }
      apiKey = key;
      $("api-key").value = "";
      $("key-error").hidden = true;
      connect();
    });
    $("voice").addEventListener("change", () => update({ audio: { output: { voice: $("voice").value } } }));
    for (const radio of document.querySelectorAll('input[name="turn"]')) {
      radio.addEventListener("change", () => {
        $("eagerness-field").hidden = turnDetection().type !== "semantic_vad";
        update({ audio: { input: { turn_detection: turnDetection() } } });
      });
    }
    $("eagerness").addEventListener("change", () => update({ audio: { input: { turn_detection: turnDetection() } } }));
    $("tool").addEventListener("change", () => update({ tools: $("tool").checked ? [GET_TIME_TOOL] : [] }));
    $("instructions").addEventListener("change", () => update({ instructions: $("instructions").value.trim() }));
    $("log-filter").addEventListener("input", () => log.rows.forEach(applyFilter));
    $("log-sent").addEventListener("change", () => log.rows.forEach(applyFilter));
    $("log-clear").addEventListener("click", () => {
      $("log").replaceChildren();
      log.rows = [];
      log.count = 0;
      $("log-count").textContent = "0";
    });
    window.addEventListener("pagehide", () => {
      if (call && call.callId) {
        const headers = { Authorization: `Bearer ${call.secret}` };
        fetch(`/v1/realtime/calls/${encodeURIComponent(call.callId)}/hangup`, { method: "POST", headers, keepalive: true });
      }
    });
    setInterval(poll, POLL_MS);
    setState("idle");
    renderTurns();
  }

  window.playground = {
    get pc() {
      return (call && call.pc) || lastCall.pc;
    },
    get dc() {
      return call && call.dc;
    },
    get callId() {
      return call && call.callId;
    },
    get state() {
      return ui.state;
    },
    get reason() {
      return ui.reason;
    },
    events,
    turns,
    get messages() {
      return [...messages.values()].map((m) => ({ role: m.role, itemId: m.itemId, text: m.text, cut: m.cut }));
    },
    connect,
    hangup,
    interrupt,
    send,
    sessionConfig,
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
