/**
 * A refusal in the domain's words: a stable UPPER_SNAKE code, a message for
 * people, and the field it is about. Services throw these; `api/` maps each code
 * to a status and each surface renders it in its own envelope.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * A DomainError that already knows its HTTP status (older services and the
 * HTTP layer itself). New services throw DomainError and let `api/` decide.
 */
export class AppError extends DomainError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    field?: string,
    details?: unknown,
  ) {
    super(code, message, field, details);
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
