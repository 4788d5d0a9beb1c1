// Entry point for zombienet's `js-script` assertions, which load scripts with require(): the
// steps are in suite.mjs (an ES module, imported once per zombienet process, so its state
// lasts across the steps of one test file). Arguments: the step and its parameters,
// comma-separated (`with "crash,BTC"`).
module.exports.run = async (_nodeName, networkInfo, args) => {
  const suite = await import('./suite.mjs');
  await suite.step(args, networkInfo);
  return 1;
};
