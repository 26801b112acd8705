package org.ievirsh.api.v1;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Quantities reads and writes memory sizes with binary units: 512MiB, 2GiB (2Gi is read too). */
public final class Quantities {
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,10})(Ki|Mi|Gi|Ti)B?");
    private static final String[] UNITS = {"TiB", "GiB", "MiB", "KiB"};
    private static final long[] FACTORS = {1L << 40, 1L << 30, 1L << 20, 1L << 10};

    private Quantities() {
    }

    /** Bytes of a size like {@code 2GiB}; the schema has already checked its form. */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: " + text);
        }
        long number = Long.parseLong(m.group(1));
        long factor;
        switch (m.group(2)) {
            case "Ki": factor = 1L << 10; break;
            case "Mi": factor = 1L << 20; break;
            case "Gi": factor = 1L << 30; break;
            default: factor = 1L << 40; break;
        }
        return Math.multiplyExact(number, factor);
    }

    /** Text of {@code bytes} in the largest unit that divides it: 2GiB, 1536MiB, 12345B. */
    /**
     * {@code bytes} as a person reads an amount: GiB with one decimal from
     * 1 GiB up, else whole MiB, else bytes (never raw KiB: "3.7GiB", not
     * "3921588KiB"); rounded down, so that what is said to be free is.
     */
    public static String readable(long bytes) {
        if (bytes >= 1L << 30) {
            long tenths = bytes * 10 / (1L << 30);
            return tenths % 10 == 0 ? tenths / 10 + "GiB" : tenths / 10 + "." + tenths % 10 + "GiB";
        }
        if (bytes >= 1L << 20) {
            return bytes / (1L << 20) + "MiB";
        }
        return bytes + "B";
    }

    public static String format(long bytes) {
        for (int i = 0; i < UNITS.length; i++) {
            if (bytes != 0 && bytes % FACTORS[i] == 0) {
                return (bytes / FACTORS[i]) + UNITS[i];
            }
        }
        return bytes + "B";
    }
}
