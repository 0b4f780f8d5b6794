import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { AtpError } from './errors';

/**
 * When a value fails several constraints, the one about its presence or type says what is wrong:
 * `tags: "x"` fails both IsArray and ArrayMaxSize, and "at most 32 tags" would mislead. (The
 * order of `constraints` follows the decorators bottom-up, so it cannot be relied on.)
 */
const FIRST_CONSTRAINTS = [
  'whitelistValidation',
  'isDefined',
  'isArray',
  'isObject',
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isEnum',
  'isIn',
  'isUuid',
  'isDateString',
  'nestedValidation',
];

function pickMessage(constraints: Record<string, string>): string {
  for (const name of FIRST_CONSTRAINTS) if (constraints[name]) return constraints[name];
  return Object.values(constraints)[0];
}

function firstProblem(errors: ValidationError[], parent = ''): { param: string; message: string } | null {
  for (const e of errors) {
    const param = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length) {
      return { param, message: pickMessage(e.constraints) };
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
