// Recall of sent messages with ↑ / ↓ in the input (pure).

export class InputHistory {
  constructor(limit = 50) {
    this.limit = limit;
    this.entries = [];
    this.index = -1; // -1: not browsing
  }

  push(text) {
    if (!text) return;
    if (this.entries[this.entries.length - 1] !== text) this.entries.push(text);
    if (this.entries.length > this.limit) this.entries.shift();
    this.index = -1;
  }

  /**
   * ↑: from an empty input (or while browsing, unchanged) go one entry back.
   * Returns the text to show, or null to let the key do its normal job.
   */
  up(current) {
    if (this.entries.length === 0) return null;
    const browsing = this.index >= 0 && current === this.entries[this.index];
    if (!browsing) {
      if (current !== '') return null;
      this.index = this.entries.length - 1;
      return this.entries[this.index];
    }
    if (this.index > 0) this.index--;
    return this.entries[this.index];
  }

  /** ↓ while browsing: one entry forward, then back to an empty input. */
  down(current) {
    if (this.index < 0 || current !== this.entries[this.index]) return null;
    if (this.index < this.entries.length - 1) {
      this.index++;
      return this.entries[this.index];
    }
    this.index = -1;
    return '';
  }

  reset() { this.index = -1; }
}
