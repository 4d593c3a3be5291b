/** Status, name and message of an error, from the backend's error body when there is one. */
export function describeError(error: Error): {
  statusCode?: number;
  name: string;
  message: string;
} {
  const e = error as Error & {
    statusCode?: number;
    cause?: { name?: string; message?: string };
  };
  if (e.name === 'ResponseError' && e.cause?.message) {
    return {
      statusCode: e.statusCode,
      name: e.cause.name ?? 'Error',
      message: e.cause.message,
    };
  }
  return { name: error.name, message: error.message };
}

/** Whether the backend refused because another field manager owns fields. */
export function isConflict(error: Error): boolean {
  const { statusCode, name } = describeError(error);
  return statusCode === 409 || name === 'ConflictError';
}
