// A graphql-transport-ws client: one WebSocket, reopened with backoff after any drop.
//
// Subscriptions are registered once and sent again on every new connection, each time with
// fresh variables (so taskUpdates resumes from the last cursor the board saw). A protocol
// ping every PING_MS finds a connection that died silently: no pong before the next ping
// closes it, and the reconnect starts.
const PROTOCOL = "graphql-transport-ws";
const PING_MS = 15000;
const MAX_BACKOFF_MS = 10000;
// Closes after which reconnecting cannot help: the token was refused.
const FINAL_CLOSE_CODES = new Set([4401, 4403]);

export class LiveConnection extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.state = "connecting";
    this.operations = new Map();
    this.nextId = 1;
    this.failures = 0;
    this.stopped = false;
    this.socket = null;
    this.acked = false;
    this.awaitingPong = false;
    this.pinger = null;
  }

  start() {
    this.open();
  }

  stop() {
    this.stopped = true;
    window.clearInterval(this.pinger);
    this.socket?.close(1000, "signed out");
  }

  // `variables()` is called at every (re)subscribe; `handlers` has next, error and complete.
  subscribe(query, variables, handlers) {
    const id = String(this.nextId++);
    this.operations.set(id, { query, variables, handlers, active: false });
    this.send_subscribe(id);
    return id;
  }

  // Sends a subscription again (after it ended with an error or completed).
  resubscribe(id) {
    this.send_subscribe(id);
  }

  send_subscribe(id) {
    const operation = this.operations.get(id);
    if (!this.acked || operation === undefined || operation.active) {
      return;
    }
    operation.active = true;
    this.send({ id, type: "subscribe", payload: { query: operation.query, variables: operation.variables() } });
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  open() {
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    this.acked = false;
    socket.onopen = () => this.send({ type: "connection_init", payload: { Authorization: `Bearer ${this.token}` } });
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(message) {
    const operation = this.operations.get(message.id);
    switch (message.type) {
      case "connection_ack":
        this.acked = true;
        this.failures = 0;
        this.awaitingPong = false;
        this.pinger = window.setInterval(() => this.ping(), PING_MS);
        this.setState("live");
        for (const id of this.operations.keys()) {
          this.send_subscribe(id);
        }
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "pong":
        this.awaitingPong = false;
        break;
      case "next":
        operation?.handlers.next(message.payload);
        break;
      case "error":
        if (operation !== undefined) {
          operation.active = false;
          operation.handlers.error(message.payload);
        }
        break;
      case "complete":
        if (operation !== undefined) {
          operation.active = false;
          operation.handlers.complete();
        }
        break;
      default:
        break;
    }
  }

  ping() {
    if (this.awaitingPong) {
      this.socket.close(4000, "no pong");
      return;
    }
    this.awaitingPong = true;
    this.send({ type: "ping" });
  }

  closed(socket, event) {
    if (socket !== this.socket) {
      return;
    }
    window.clearInterval(this.pinger);
    this.acked = false;
    for (const operation of this.operations.values()) {
      operation.active = false;
    }
    if (this.stopped) {
      return;
    }
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.setState("refused");
      this.dispatchEvent(new CustomEvent("refused", { detail: event.reason || `closed with ${event.code}` }));
      return;
    }
    this.setState("reconnecting");
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures);
    this.failures += 1;
    window.setTimeout(() => this.open(), delay);
  }
}
