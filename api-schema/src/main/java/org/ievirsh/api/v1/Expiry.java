package org.ievirsh.api.v1;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Expiry is when a VM ends (the README's "The semester"): a date, which ends at 00:00 of
 * the next day in the controller's time zone, or an exact time (RFC 3339).
 *
 * @param date a date-only expiry, or null
 * @param time an exact expiry, or null
 */
public record Expiry(LocalDate date, Instant time) {

    /** Reads {@code 2027-01-31} or {@code 2027-01-31T18:00:00+01:00}; empty when it is neither. */
    public static Optional<Expiry> parse(String text) {
        if (text == null || text.length() > 64) {
            return Optional.empty();
        }
        try {
            if (text.length() == 10) {
                return Optional.of(new Expiry(LocalDate.parse(text, DateTimeFormatter.ISO_LOCAL_DATE), null));
            }
            return Optional.of(new Expiry(null, OffsetDateTime.parse(text.replace(' ', 'T'),
                    DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant()));
        } catch (DateTimeException e) {
            return Optional.empty();
        }
    }

    /** The instant the VM halts, reading a date in {@code zone}. */
    public Instant at(ZoneId zone) {
        return time != null ? time : date.plusDays(1).atStartOfDay(zone).toInstant();
    }

    /** The earlier of two ends (an empty one is never), dates read in {@code zone}. */
    public static Optional<Expiry> earliest(Optional<Expiry> a, Optional<Expiry> b, ZoneId zone) {
        if (a.isEmpty()) {
            return b;
        }
        if (b.isEmpty()) {
            return a;
        }
        return b.get().at(zone).isBefore(a.get().at(zone)) ? b : a;
    }

    /** As written: the date, or the time in UTC. */
    @Override
    public String toString() {
        return date != null ? date.toString() : DateTimeFormatter.ISO_INSTANT.format(time);
    }
}
