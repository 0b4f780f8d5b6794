import { Injectable } from '@nestjs/common';

/** Time, injected so tests can move it (JWKS cool-down, cache TTLs, key expiry). */
@Injectable()
export class AuthClock {
  now(): number {
    return Date.now();
  }
}
