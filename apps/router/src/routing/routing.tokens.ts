/** The model catalog (built-in + ATP_ROUTING_CONFIG). */
export const CATALOG = Symbol('CATALOG');
