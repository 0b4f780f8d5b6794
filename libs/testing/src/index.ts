export * from './test-env';
export * from './boot';
export * from './echo.fixture';
export * from './service-basics';
export * from './processes';
export * from './own-services';
