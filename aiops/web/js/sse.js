// Server-Sent Events over fetch (EventSource cannot POST nor send a token), and a turn that
// survives a dropped connection by resuming after the last event seen (Last-Event-ID).

import { ApiError } from "./api.js";
import { sleep } from "./dom.js";

export const TERMINAL = new Set(["approval_required", "final", "error"]);
const MAX_RESUMES = 4;
const RESUME_DELAYS_MS = [300, 1000, 2500, 5000];

/** Incremental parser of the text/event-stream format; `push` returns the complete events. */
export class SseParser {
  constructor() {
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = { id: null, event: "message", data: [] };
  }

  push(text) {
    this.buffer += text;
    const events = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // a lone CR at the end may be the first half of a CRLF still in flight
      if (!match || (match[0] === "\r" && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === "") {
      const { id, event, data } = this.event;
      this.reset();
      return data.length ? { id, event, data: data.join("\n") } : null;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.event.data.push(value);
    else if (field === "event") this.event.event = value;
    else if (field === "id") this.event.id = value;
    return null;
  }
}

/** The events of an SSE response body, as `{id, event, data}` with `data` parsed as JSON. */
export async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.push(value)) yield { ...event, data: JSON.parse(event.data) };
    }
  } finally {
    reader.releaseLock();
  }
}

/** The stream stopped and could not be resumed: `resume()` tries again from where it stopped. */
export class StreamLost extends Error {
  constructor(turnId, lastEventId, cause) {
    super("The connection dropped while the answer was streaming.");
    this.name = "StreamLost";
    this.turnId = turnId;
    this.lastEventId = lastEventId;
    this.cause = cause;
  }
}

/**
 * Follow one turn to its terminal event. `open()` returns the first response (the POST);
 * `reopen(turnId, lastEventId)` the resumed stream. Each event goes to `onEvent`; `onRetry`
 * hears about reconnections. Returns the terminal event.
 */
export async function followTurn({ open, reopen, onEvent, onRetry }) {
  let response = await open();
  let turnId = response.headers.get("X-Turn-Id");
  let lastEventId = null;
  for (let failures = 0; ; ) {
    try {
      response ??= await reopen(turnId, lastEventId);
      for await (const event of readEvents(response.body)) {
        failures = 0;
        lastEventId = event.id ?? lastEventId;
        turnId ??= event.data.turn_id;
        onEvent(event.data);
        if (TERMINAL.has(event.data.type)) return event.data;
      }
      throw new Error("the stream ended before the turn did");
    } catch (error) {
      // the service refused (expired turn, signed out…): resuming would not help
      if (error instanceof ApiError || error?.name === "AbortError") throw error;
      response = null;
      failures += 1;
      if (!turnId || failures > MAX_RESUMES) throw new StreamLost(turnId, lastEventId, error);
      onRetry?.(failures);
      await sleep(RESUME_DELAYS_MS[failures - 1]);
    }
  }
}
