// The import rules of lib/ (ARCHITECTURE.md, "lib/"): checked by `npm run lint:deps` and by
// test/architecture.test.ts. swc parses the TypeScript (TypeScript 7 has no compiler API).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: one of the modules should take an interface instead.',
      from: {}, to: { circular: true } },
    { name: 'layers-stand-alone', severity: 'error', comment: 'Layers know nothing of models, training or optimizers.',
      from: { path: '^lib/layers/' }, to: { path: '^lib/(model|optim)/' } },
    { name: 'optim-stand-alone', severity: 'error', comment: 'Optimizers update flat buffers; they know no layer or model.',
      from: { path: '^lib/optim/' }, to: { path: '^lib/(layers|model)/' } },
    { name: 'io-knows-only-tensors', severity: 'error', comment: 'File formats read and write tensors, nothing above them.',
      from: { path: '^lib/io/' }, to: { path: '^lib/(layers|model|optim|native)' } },
    { name: 'serve-knows-no-model', severity: 'error', comment: 'The micro-batching server runs a ServeBackend; the model side (lib/model/serving.ts) adapts a Sequential to it.',
      from: { path: '^lib/serve/' }, to: { path: '^lib/(model|layers|optim|io|native)' } },
    { name: 'convert-is-on-top', severity: 'error', comment: 'File converters (ONNX, TF.js) build layers and models; nothing below imports them, except Sequential.exportOnnx / saveTfjs delegating to the exporters.',
      from: { path: '^lib/(layers|io|optim|internal|native|tensor)' }, to: { path: '^lib/convert/' } },
    { name: 'model-imports-only-the-exporter', severity: 'error', comment: 'lib/model reaches lib/convert only through the exporters onnx_export.ts and tfjs_export.ts (the importers import Sequential, not the other way).',
      from: { path: '^lib/model/' }, to: { path: '^lib/convert/(?!onnx_export|tfjs_export)' } },
    { name: 'internal-is-a-leaf', severity: 'error', comment: 'Argument checks and random numbers import nothing of lib/.',
      from: { path: '^lib/internal/' }, to: { path: '^lib/(?!internal/)' } },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
