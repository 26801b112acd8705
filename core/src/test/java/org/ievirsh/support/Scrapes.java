package org.ievirsh.support;

/** Scrapes reads figures out of a Prometheus text exposition, for tests. */
public final class Scrapes {
    private Scrapes() {
    }

    /** The sum of every sample of {@code metric} (all its label sets) in {@code scrape}. */
    public static double sum(String scrape, String metric) {
        return scrape.lines().filter(l -> l.startsWith(metric + "{") || l.startsWith(metric + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
