package org.ievirsh.bench;

import java.io.PrintStream;

/** Promise turns a benchmark's figures into its exit code: 0 when its promise (docs/performance.md) is kept, else 1. */
final class Promise {
    private Promise() {
    }

    static int report(PrintStream out, String promise, boolean kept) {
        out.println((kept ? "KEPT    " : "MISSED  ") + promise);
        return kept ? 0 : 1;
    }

    /** The exit code of several promises: 1 if any was missed. */
    static int all(int... codes) {
        int worst = 0;
        for (int code : codes) {
            worst = Math.max(worst, code);
        }
        return worst;
    }
}
