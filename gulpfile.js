// Copies node and credential icons and node codex files next to the compiled code (tsc copies only .ts output).
const path = require('path');
const { task, src, dest } = require('gulp');

task('build:icons', () =>
	src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], { encoding: false }).pipe(
		dest((file) => path.join('dist', path.relative(file.cwd, file.base))),
	),
);
