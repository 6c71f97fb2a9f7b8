/** One server-sent event: its `event:` type (default "message") and its `data:` lines joined. */
export interface SseEvent {
  type: string;
  data: string;
}

/**
 * Take the complete events (blocks ended by a blank line) off the front of `buf`; what follows the
 * last complete block is returned as `rest`, to be prefixed to the next chunk. Blocks without data
 * (comments, keep-alives) are skipped.
 */
export function takeSseEvents(buf: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let i: number;
  while ((i = buf.indexOf("\n\n")) >= 0) {
    const block = buf.slice(0, i);
    buf = buf.slice(i + 2);
    let type = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (data.length) events.push({ type, data: data.join("\n") });
  }
  return { events, rest: buf };
}
