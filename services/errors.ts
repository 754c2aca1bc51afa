/**
 * An error a caller can act on: a stable UPPER_SNAKE code, an HTTP status, and
 * the field it is about. The API's one error handler renders these; anything
 * else is a 500 that says nothing internal.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, field?: string, details?: unknown) =>
  new AppError(400, code, message, field, details);
export const notFound = (what: string, id: string) => new AppError(404, 'NOT_FOUND', `${what} ${id} not found`);
export const forbidden = (message: string, code = 'FORBIDDEN') => new AppError(403, code, message);
export const conflict = (code: string, message: string, field?: string) => new AppError(409, code, message, field);
export const unprocessable = (code: string, message: string, field?: string, details?: unknown) =>
  new AppError(422, code, message, field, details);
