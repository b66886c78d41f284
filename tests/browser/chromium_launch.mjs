// Prints how to launch @sparticuz/chromium as JSON: {"executablePath": ..., "args": [...]}.
//
// executablePath() extracts the compressed Chromium (and its fonts and SwiftShader) into the
// temp directory (TMPDIR) on first use, and returns the existing binary afterwards.
import chromium from "@sparticuz/chromium";

const executablePath = await chromium.executablePath();
process.stdout.write(JSON.stringify({ executablePath, args: chromium.args }));
