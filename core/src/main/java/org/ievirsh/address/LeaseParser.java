package org.ievirsh.address;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LeaseParser reads the lease file of a department's DHCP server, whatever
 * the server: ISC dhcpd ({@code lease IP { ... }} blocks), dnsmasq
 * ({@code expiry mac ip host clientid} lines) or Kea's memfile CSV (a header
 * line naming {@code address,hwaddr,...}), told apart by content. It keeps,
 * per MAC, the newest lease that is bound and not expired at the time given:
 * later in the file is newer (every server appends or rewrites in order),
 * and of dnsmasq's one line per lease the latest end wins. A MAC that holds
 * leases in force to two addresses or more is listed with all of them as
 * {@link Result#rivals}: any client can send any MAC, so a guest that takes
 * another VM's MAC and asks with a client-id of its own gets a second lease
 * for it, and which of the two ends later says nothing about whose it is. A
 * line it cannot read is skipped, never fatal; a line longer than
 * {@link #MAX_LINE} is skipped unread.
 */
public final class LeaseParser {
    /** MAX_LINE bounds one line (a lease block's statement); longer ones are garbage. */
    public static final int MAX_LINE = 4096;
    private static final Pattern MAC = Pattern.compile("(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern ISC_LEASE = Pattern.compile("lease\\s+(\\S+)\\s*\\{");
    private static final DateTimeFormatter ISC_TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss");

    /** Format is which server wrote a file. */
    public enum Format { ISC, DNSMASQ, KEA, EMPTY, UNKNOWN }

    /**
     * Result is what one file held: the leases in force by MAC (the latest
     * end of each), its format, how many lines were skipped, and for each MAC
     * with leases in force to more than one address, all of them.
     */
    public record Result(Map<String, Lease> byMac, Format format, int skipped, Map<String, List<Lease>> rivals) {
        Result(Map<String, Lease> byMac, Format format, int skipped) {
            this(byMac, format, skipped, Map.of());
        }
    }

    /** The MACs of {@code active} (leases in force) that hold more than one address, with their leases. */
    static Map<String, List<Lease>> rivals(Iterable<Lease> active) {
        Map<String, Map<String, Lease>> byMac = new HashMap<>();
        for (Lease lease : active) {
            byMac.computeIfAbsent(lease.mac(), m -> new java.util.TreeMap<>()).merge(lease.ip(), lease,
                    LeaseParser::laterEnd);
        }
        Map<String, List<Lease>> rivals = new HashMap<>();
        byMac.forEach((mac, ips) -> {
            if (ips.size() > 1) {
                rivals.put(mac, List.copyOf(ips.values()));
            }
        });
        return Map.copyOf(rivals);
    }

    private LeaseParser() {
    }

    /** The format of {@code text}, from its first lines that are not comments. */
    public static Format formatOf(String text) {
        int checked = 0;
        for (String line : text.lines().limit(200).toList()) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("address,hwaddr,") || l.startsWith("address,hwaddr")) {
                return Format.KEA;
            }
            if (ISC_LEASE.matcher(l).lookingAt() || l.startsWith("authoring-byte-order") || l.startsWith("server-duid")
                    || l.startsWith("failover peer") || l.startsWith("host ")) {
                return Format.ISC;
            }
            String[] f = l.split("\\s+");
            if (f.length >= 3 && f[0].chars().allMatch(Character::isDigit) && MAC.matcher(f[1]).matches()) {
                return Format.DNSMASQ;
            }
            if (f.length >= 2 && f[0].equals("duid")) {
                return Format.DNSMASQ;
            }
            if (++checked > 20) {
                break;
            }
        }
        return checked == 0 ? Format.EMPTY : Format.UNKNOWN;
    }

    /** The leases in force at {@code now} in the file {@code bytes}. */
    public static Result parse(byte[] bytes, Instant now) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Format format = formatOf(text);
        switch (format) {
            case ISC: return isc(text, now);
            case DNSMASQ: return dnsmasq(text, now);
            case KEA: return kea(text, now);
            default: return new Result(Map.of(), format, format == Format.EMPTY ? 0 : (int) text.lines().count());
        }
    }

    private static Result dnsmasq(String text, Instant now) {
        Map<String, Lease> byMac = new HashMap<>();
        List<Lease> active = new java.util.ArrayList<>();
        int skipped = 0;
        for (String line : text.lines().toList()) {
            if (line.length() > MAX_LINE) {
                skipped++;
                continue;
            }
            String[] f = fields(line);
            if (f.length >= 1 && f[0].equals("duid")) {
                continue;
            }
            if (f.length < 3 || !MAC.matcher(f[1]).matches() || !IPV4.matcher(f[2]).matches()) {
                skipped += line.isBlank() ? 0 : 1;
                continue;
            }
            Optional<Instant> ends;
            try {
                long expiry = Long.parseLong(f[0]);
                ends = expiry == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(expiry));
            } catch (NumberFormatException | java.time.DateTimeException e) {
                skipped++;
                continue;
            }
            Lease lease = new Lease(f[1].toLowerCase(), f[2], ends);
            if (lease.activeAt(now)) {
                byMac.merge(lease.mac(), lease, LeaseParser::laterEnd);
                active.add(lease);
            }
        }
        return new Result(Map.copyOf(byMac), Format.DNSMASQ, skipped, rivals(active));
    }

    /**
     * The fields of a line split at runs of white space, as
     * {@code line.strip().split("\\s+")} would, without a regular
     * expression: a lease file of 40,000 lines is split in a few
     * milliseconds.
     */
    static String[] fields(String line) {
        String text = line.strip();
        java.util.List<String> fields = new java.util.ArrayList<>(6);
        int i = 0;
        int n = text.length();
        while (i < n) {
            int start = i;
            while (i < n && !space(text.charAt(i))) {
                i++;
            }
            fields.add(text.substring(start, i));
            while (i < n && space(text.charAt(i))) {
                i++;
            }
        }
        return fields.isEmpty() ? new String[] {""} : fields.toArray(new String[0]);
    }

    /** What the regular expression {@code \s} matches. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    private static Lease laterEnd(Lease a, Lease b) {
        if (a.ends().isEmpty()) {
            return a;
        }
        if (b.ends().isEmpty()) {
            return b;
        }
        return b.ends().get().isBefore(a.ends().get()) ? a : b;
    }

    private static Result isc(String text, Instant now) {
        Map<String, Lease> byMac = new HashMap<>();
        // Per IP the last block is the lease's current state; per MAC the last current block wins.
        Map<String, String> macOfIp = new HashMap<>();
        // The current lease of each address (its last block), for the rivals.
        Map<String, Lease> current = new HashMap<>();
        int skipped = 0;
        String ip = null;
        String mac = null;
        String state = null;
        Optional<Instant> ends = Optional.empty();
        boolean endsRead = true;
        for (String raw : text.lines().toList()) {
            if (raw.length() > MAX_LINE) {
                skipped++;
                continue;
            }
            String line = raw.strip();
            if (ip == null) {
                Matcher m = ISC_LEASE.matcher(line);
                if (m.lookingAt()) {
                    if (IPV4.matcher(m.group(1)).matches()) {
                        ip = m.group(1);
                        mac = null;
                        state = null;
                        ends = Optional.empty();
                        endsRead = true;
                    } else {
                        skipped++;
                    }
                }
                continue;
            }
            if (line.startsWith("}")) {
                String before = macOfIp.remove(ip);
                if (before != null && byMac.containsKey(before) && byMac.get(before).ip().equals(ip)) {
                    byMac.remove(before);  // the address's newer block says who has it now
                }
                boolean bound = state == null || state.equals("active");
                current.remove(ip);
                if (mac != null && bound && endsRead) {
                    Lease lease = new Lease(mac, ip, ends);
                    if (lease.activeAt(now)) {
                        byMac.put(mac, lease);
                        macOfIp.put(ip, mac);
                        current.put(ip, lease);
                    }
                } else if (mac == null || !endsRead) {
                    skipped++;
                }
                ip = null;
                continue;
            }
            if (line.startsWith("hardware ethernet ")) {
                String value = line.substring("hardware ethernet ".length()).replace(";", "").strip();
                mac = MAC.matcher(value).matches() ? value.toLowerCase() : null;
            } else if (line.startsWith("binding state ")) {
                state = line.substring("binding state ".length()).replace(";", "").strip();
            } else if (line.startsWith("ends ")) {
                Optional<Optional<Instant>> parsed = iscTime(line.substring(5).replace(";", "").strip());
                endsRead = parsed.isPresent();
                ends = parsed.orElse(Optional.empty());
            }
        }
        return new Result(Map.copyOf(byMac), Format.ISC, skipped + (ip != null ? 1 : 0), rivals(current.values()));
    }

    /** {@code ends} of dhcpd: "never", "epoch N", or "W yyyy/mm/dd hh:mm:ss" in UTC; empty when unreadable. */
    private static Optional<Optional<Instant>> iscTime(String value) {
        if (value.equals("never")) {
            return Optional.of(Optional.empty());
        }
        try {
            if (value.startsWith("epoch ")) {
                String n = value.substring(6).split("\\s")[0];
                return Optional.of(Optional.of(Instant.ofEpochSecond(Long.parseLong(n))));
            }
            String[] parts = value.split("\\s+");
            if (parts.length >= 3) {
                LocalDateTime time = LocalDateTime.parse(parts[1] + " " + parts[2], ISC_TIME);
                return Optional.of(Optional.of(time.toInstant(ZoneOffset.UTC)));
            }
        } catch (NumberFormatException | java.time.DateTimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Result kea(String text, Instant now) {
        Map<String, Lease> byIp = new HashMap<>();
        int skipped = 0;
        int address = -1;
        int hwaddr = -1;
        int expire = -1;
        int state = -1;
        int validLifetime = -1;
        for (String line : text.lines().toList()) {
            if (line.length() > MAX_LINE) {
                skipped++;
                continue;
            }
            String[] f = line.split(",", -1);
            if (line.startsWith("address,")) {
                java.util.List<String> header = java.util.List.of(f);
                address = header.indexOf("address");
                hwaddr = header.indexOf("hwaddr");
                expire = header.indexOf("expire");
                state = header.indexOf("state");
                validLifetime = header.indexOf("valid_lifetime");
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            if (address < 0 || hwaddr < 0 || expire < 0 || f.length <= Math.max(address, Math.max(hwaddr, expire))
                    || !IPV4.matcher(f[address]).matches()) {
                skipped++;
                continue;
            }
            try {
                long ends = Long.parseLong(f[expire]);
                int leaseState = state >= 0 && state < f.length && !f[state].isEmpty() ? Integer.parseInt(f[state]) : 0;
                long lifetime = validLifetime >= 0 && validLifetime < f.length && !f[validLifetime].isEmpty()
                        ? Long.parseLong(f[validLifetime]) : 1;
                String mac = f[hwaddr].toLowerCase();
                // state 0 is a lease in use (1 declined, 2 expired-reclaimed); a released lease has lifetime 0.
                if (leaseState != 0 || lifetime == 0 || !MAC.matcher(mac).matches()) {
                    byIp.remove(f[address]);
                    continue;
                }
                byIp.put(f[address], new Lease(mac, f[address], Optional.of(Instant.ofEpochSecond(ends))));
            } catch (NumberFormatException | java.time.DateTimeException e) {
                skipped++;
            }
        }
        Map<String, Lease> byMac = new HashMap<>();
        List<Lease> active = new java.util.ArrayList<>();
        for (Lease lease : byIp.values()) {
            if (lease.activeAt(now)) {
                byMac.merge(lease.mac(), lease, LeaseParser::laterEnd);
                active.add(lease);
            }
        }
        return new Result(Map.copyOf(byMac), Format.KEA, skipped, rivals(active));
    }
}
