#!/usr/bin/env node
/** The `target-profile-sink` command line. */
import { createProgram } from './program.js';

await createProgram().parseAsync(process.argv);
