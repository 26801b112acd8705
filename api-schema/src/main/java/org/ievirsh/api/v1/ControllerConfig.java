package org.ievirsh.api.v1;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.schema.SchemaCheck;

/**
 * ControllerConfig is the admin's {@code controller.yaml} (the README's configuration),
 * with every default filled in.
 */
public record ControllerConfig(
        Users users,
        Images images,
        Path templates,
        String defaultTemplate,
        Quota quota,
        List<Blade> blades,
        Http http,
        Duration resync,
        Duration stopGracePeriod,
        DeletionGuard deletionGuard,
        int workers,
        Addresses addresses,
        Console console,
        String lockManager,
        Migration migration,
        BladeDown bladeDown,
        Optional<Ha> ha,
        Lifecycle lifecycle,
        BaseImages baseImages,
        Map<String, Course> courses,
        Snapshots snapshots) {

    /** DEFAULT_PATH is where admins keep the file. */
    public static final Path DEFAULT_PATH = Path.of("/etc/ie-virsh/controller.yaml");

    private static final SchemaCheck SCHEMA = SchemaCheck.load(SchemaCheck.CONTROLLER_CONFIG_V1);

    /**
     * Users says where students' directories are, and how many VM files of
     * one directory are read at most ({@code maxFiles}).
     */
    public record Users(String directories, int minUid, int maxFiles) {
    }

    /**
     * Images says where students' disk images are ({@code <root>/<user>/}),
     * how large a disk import-box may unpack, whether an image is looked
     * inside before it starts ({@code enforce}, {@code warn} or {@code off}),
     * and where the looks keep libguestfs' appliance and each student's
     * scratch directory ({@code inspectionCache}).
     */
    public record Images(Path root, long boxEntryLimit, String inspection, Path inspectionCache) {
    }

    /** BaseImages says where the admin's base images are; empty: there are none. */
    public record BaseImages(Optional<Path> root) {
        public static final BaseImages NONE = new BaseImages(Optional.empty());
    }

    /**
     * Course is a class: every member of the POSIX group {@code students}
     * gets the VMs of {@code vms} (the file {@code <course>-<vm>.yaml},
     * written once into their directory); they count against {@code quota}
     * (fields left out: {@code quota.default}'s) and end at {@code expires}
     * (empty: never). Members of {@code instructors} (empty: none) list them
     * and open their consoles.
     */
    public record Course(String name, String students, Optional<String> instructors, Optional<Expiry> expires,
                         Limits quota, Map<String, CourseVm> vms) {

        /** The VM name {@code vm} of this course takes in a student's directory. */
        public String vmName(String vm) {
            return name + "-" + vm;
        }
    }

    /**
     * CourseVm is one VM of a course: the fields of its spec as the admin
     * wrote them (texts, in the order of {@link #FIELDS}), copied into each
     * student's file.
     */
    public record CourseVm(String name, Map<String, String> spec) {
        /** FIELDS are the spec fields a course may set, in the order they are written. */
        public static final List<String> FIELDS = List.of("description", "baseImage", "disk", "image", "template",
                "vcpus", "memory", "runStrategy", "firstBoot");
    }

    /** Snapshots bounds the students' snapshots: at most {@code maxPerVm} of each VM. */
    public record Snapshots(int maxPerVm) {
        public static final Snapshots DEFAULT = new Snapshots(5);
    }

    /** Resources is an amount of vCPUs and memory. */
    public record Resources(int vcpus, long memoryBytes) {
        public static final Resources NONE = new Resources(0, 0);
    }

    /**
     * Limits is one quota entry; an empty field leaves the value of the level
     * below (default, then groups, then the user).
     */
    public record Limits(Optional<Integer> vms, Optional<Integer> runningVms, Optional<Integer> vcpus,
                         Optional<Long> memoryBytes, Optional<Long> diskBytes) {
        public static final Limits EMPTY = new Limits(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    /** Quota gives limits for everyone, per POSIX group and per user. */
    public record Quota(Limits defaults, Map<String, Limits> groups, Map<String, Limits> users) {
    }

    /**
     * Capacity is what the admin says a blade holds (an overcommit policy):
     * each field left out keeps what the blade itself reports.
     */
    public record Capacity(java.util.OptionalInt vcpus, java.util.OptionalLong memoryBytes) {
        public static final Capacity REPORTED = new Capacity(java.util.OptionalInt.empty(),
                java.util.OptionalLong.empty());
    }

    /**
     * Blade is one hypervisor; {@code capacity} says which of its own figures the admin replaces; a
     * {@code drain}ing blade's VMs move elsewhere (it is never schedulable).
     */
    public record Blade(String name, String uri, boolean schedulable, Resources reserved, Capacity capacity,
                        boolean drain, Optional<String> migrationUri) {
        public Blade(String name, String uri, boolean schedulable, Resources reserved, Capacity capacity) {
            this(name, uri, schedulable, reserved, capacity, false, Optional.empty());
        }

        public Blade {
            schedulable = schedulable && !drain;
        }
    }

    /** Addresses says which sources of VM addresses to use, most trusted first, and the lease files to read. */
    public record Addresses(List<String> sources, List<Path> leases) {
        public static final List<String> ALL = List.of("leases", "agent", "arp");

        public boolean uses(String source) {
            return sources.contains(source);
        }
    }

    /** Console is the students' console socket and how many sessions one user may have at once. */
    public record Console(Path socket, int maxSessionsPerUser) {
        public static final Path DEFAULT_SOCKET = Path.of("/run/ie-virsh/console.sock");
    }

    /** Migration bounds how a draining blade's VMs move: at once, MiB/s each, how long, and VIR_MIGRATE_UNSAFE. */
    public record Migration(int parallel, java.util.OptionalLong bandwidthMiBs, Duration timeout, boolean unsafe) {
    }

    /** BladeDown is what happens to the VMs of an unreachable blade: keep, or restartElsewhere after a while. */
    public record BladeDown(String action, Duration after) {
        public boolean restartElsewhere() {
            return action.equals("restartElsewhere");
        }
    }

    /** Ha is the lock file whose exclusive flock makes a controller the leader. */
    public record Ha(Path lockFile) {
    }

    /**
     * Lifecycle gives the admin's expiry of each user's VMs: the user's
     * entry, else the latest of the user's groups', else the default (an
     * empty Optional: never); and how long before it the VM warns.
     */
    public record Lifecycle(Duration warnBefore, Optional<Expiry> defaults, Map<String, Optional<Expiry>> groups,
                            Map<String, Optional<Expiry>> users) {
        public static final Lifecycle NONE = new Lifecycle(Duration.ofDays(7), Optional.empty(), Map.of(), Map.of());

        /**
         * The admin's expiry for {@code user} in {@code userGroups} (dates read
         * in {@code zone} to find the latest group); empty: never.
         */
        public Optional<Expiry> expiryOf(String user, List<String> userGroups, java.time.ZoneId zone) {
            if (users.containsKey(user)) {
                return users.get(user);
            }
            Optional<Expiry> latest = null;
            for (String group : userGroups) {
                Optional<Expiry> entry = groups.get(group);
                if (entry == null) {
                    continue;
                }
                if (entry.isEmpty()) {
                    return Optional.empty();  // one of the user's courses never ends: neither do the VMs
                }
                if (latest == null || latest.isEmpty() || entry.get().at(zone).isAfter(latest.get().at(zone))) {
                    latest = entry;
                }
            }
            return latest != null ? latest : defaults;
        }
    }

    /**
     * Http is where the controller serves metrics, health and the VM list,
     * and the file of the token every endpoint but the health checks wants
     * ({@code tokenFile}; none: no token).
     */
    public record Http(String host, int port, Optional<Path> tokenFile) {
    }

    /**
     * DeletionGuard bounds how many VMs one pass may remove: a count, or a
     * percentage of the managed VMs; never below {@link #FLOOR}.
     */
    public record DeletionGuard(Optional<Integer> count, Optional<Integer> percent) {
        public static final int FLOOR = 5;
        public static final DeletionGuard DEFAULT = new DeletionGuard(Optional.empty(), Optional.of(10));

        /** The most removals allowed in one pass over {@code managedVms} VMs (never below {@link #FLOOR}). */
        public int threshold(int managedVms) {
            return Math.max(FLOOR, share(managedVms));
        }

        /** The guard's count, or its share of {@code vms}, with no floor (one student's part of the rule). */
        public int share(int vms) {
            return count.orElseGet(() -> (int) ((long) vms * percent.orElse(10) / 100));
        }

        @Override
        public String toString() {
            return count.map(String::valueOf).orElseGet(() -> percent.orElse(10) + "%");
        }
    }

    /** Reads a config file; {@code fileName} names it in problems. */
    public static Parsed<ControllerConfig> parse(String fileName, byte[] bytes) {
        return ControllerConfigReader.parse(fileName, bytes, SCHEMA);
    }

    /** The schema the file is checked against. */
    public static SchemaCheck schema() {
        return SCHEMA;
    }
}
