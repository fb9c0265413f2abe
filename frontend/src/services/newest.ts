/**
 * Delivers the outcome of the newest request only. Two reads of the same resource can be in
 * flight at once (one started before an order was recorded, one after its event); if the
 * older answers last, it must not overwrite the newer: the screen would show an order as
 * NEW long after it was filled.
 */
export class NewestOnly {
  private issued = 0;

  track<T>(request: Promise<T>, onValue: (value: T) => void,
           onError: (reason: unknown) => void): void {
    this.issued += 1;
    const mine = this.issued;
    request.then(
      (value) => { if (mine === this.issued) onValue(value); },
      (reason: unknown) => { if (mine === this.issued) onError(reason); },
    );
  }
}
