// Time is UTC in every test (house style).
process.env.TZ = 'UTC';
