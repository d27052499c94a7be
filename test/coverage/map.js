// tap's coverage map: every test file is measured over the service's source alone, so the tests,
// the harness and the bench code they load never count as covered code.
//
// The rest of the coverage setup lives in package.json, which cannot hold comments: `test-env`
// sets NODE_V8_COVERAGE because tsx puts the TypeScript source into its source maps only then,
// and without it every file maps onto a single line; node then also writes its own coverage
// under .tap/v8-coverage, which `pretest` removes.
export default () => 'src/**/*.ts'
