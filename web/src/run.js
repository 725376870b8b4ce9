// A request in flight, shared by the engine and the gateway client: iterate it for pieces of text ({text,
// tokens?}) as they become final; `result` resolves to the response or rejects with the error.
export class Run {
  constructor() {
    this._pieces = [];
    this._waiting = null;
    this._done = false;
    this._error = null;
    this.result = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.result.catch(() => {});   // surfaced through iteration or by whoever awaits result
  }
  _push(text, tokens) {
    if (this._done) return;
    if (this._waiting) {
      const w = this._waiting;
      this._waiting = null;
      w.resolve({ value: { text, tokens }, done: false });
    } else {
      this._pieces.push({ text, tokens });
    }
  }
  _finish(error, response) {
    if (this._done) return;
    this._done = true;
    this._error = error;
    if (error) this._reject(error);
    else this._resolve(response);
    if (this._waiting) {
      const w = this._waiting;
      this._waiting = null;
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }
  [Symbol.asyncIterator]() {
    return {
      next: () => {
        if (this._pieces.length) return Promise.resolve({ value: this._pieces.shift(), done: false });
        if (this._done) return this._error ? Promise.reject(this._error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => { this._waiting = { resolve, reject }; });
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}

