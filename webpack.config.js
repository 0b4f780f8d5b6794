// nest build's webpack defaults plus a second entry: the PII worker thread (libs/pii/src/pool)
// is bundled beside each service's main.js as pii.worker.js, where PiiPool looks for it.
const { dirname, join } = require('node:path');

// nest build uses this file for every project; the CLI scans no PII and gets no worker.
module.exports = (options) =>
  options.output.filename.startsWith(join('apps', 'cli'))
    ? options
    : {
        ...options,
        entry: {
          main: options.entry,
          'pii.worker': join(__dirname, 'libs', 'pii', 'src', 'pool', 'pii.worker.ts'),
        },
        output: { ...options.output, filename: join(dirname(options.output.filename), '[name].js') },
      };
