import { v7 } from 'uuid';

/**
 * A UUIDv7 (the `uuid` package's): time-ordered, and monotonic within one
 * process even inside one millisecond, so ids sort (as strings) in creation
 * order and history paging is stable.
 */
export function timeOrderedId(): string {
  return v7();
}
