import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { AtpError } from './errors';

function firstProblem(errors: ValidationError[], parent = ''): { param: string; message: string } | null {
  for (const e of errors) {
    const param = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) {
      const message = Object.values(e.constraints)[0];
      return { param, message };
    }
    const nested = firstProblem(e.children ?? [], param);
    if (nested) return nested;
  }
  return null;
}

/** DTO validation: unknown fields rejected, the first problem named with its `param`. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const p = firstProblem(errors);
      return AtpError.badRequest('invalid_request', p?.message ?? 'Invalid request body', p?.param);
    },
  });
}
