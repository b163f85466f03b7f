/** Range data that cannot be used: unreadable, not JSON, or not the publication's schema. */
export class RangeDataError extends Error {
  readonly code = 'RANGE_DATA_INVALID' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RangeDataError';
  }
}
