package org.ievirsh.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.schema.SchemaCheck;
import org.ievirsh.api.yaml.Location;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

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
        Parsed<YamlDocument> yaml = SafeYaml.parse(fileName, bytes);
        if (!yaml.isOk()) {
            return yaml.asFailed();
        }
        YamlDocument document = yaml.orThrow();
        List<Problem> problems = new ArrayList<>(SCHEMA.check(document));
        if (!problems.isEmpty()) {
            return Parsed.failed(problems);
        }
        JsonNode root = document.root();
        List<Blade> blades = new ArrayList<>();
        Set<String> bladeNames = new HashSet<>();
        for (int i = 0; i < root.path("blades").size(); i++) {
            JsonNode blade = root.path("blades").get(i);
            String name = blade.path("name").asText();
            if (!bladeNames.add(name)) {
                problems.add(at(document, "/blades/" + i + "/name", "the blade name " + name + " is used twice"));
            }
            blades.add(new Blade(name, blade.path("uri").asText(), blade.path("schedulable").asBoolean(true),
                    resources(blade.path("reserved")).orElse(Resources.NONE), capacity(blade.path("capacity")),
                    blade.path("drain").asBoolean(false), blade.has("migrationUri")
                    ? Optional.of(blade.path("migrationUri").asText()) : Optional.empty()));
        }
        String directories = root.path("users").path("directories").asText("/home/*/ie-virsh");
        if (Path.of(directories).normalize().toString().length() != directories.length()
                || directories.contains("/../") || directories.endsWith("/..")) {
            problems.add(at(document, "/users/directories", "write a plain absolute glob, without . or .."));
        }
        String listen = root.path("http").path("listen").asText("127.0.0.1:9464");
        int colon = listen.lastIndexOf(':');
        int port = Integer.parseInt(listen.substring(colon + 1));
        if (port > 65535) {
            problems.add(at(document, "/http/listen", "the port " + port + " is above 65535"));
        }
        String host = listen.substring(0, colon).replace("[", "").replace("]", "");
        DeletionGuard guard = DeletionGuard.DEFAULT;
        JsonNode guardNode = root.path("deletionGuard");
        if (guardNode.isIntegralNumber()) {
            guard = new DeletionGuard(Optional.of(guardNode.asInt()), Optional.empty());
        } else if (guardNode.isTextual()) {
            int percent = Integer.parseInt(guardNode.asText().replace("%", ""));
            if (percent > 100) {
                problems.add(at(document, "/deletionGuard", "a share is at most 100%"));
            }
            guard = new DeletionGuard(Optional.empty(), Optional.of(percent));
        }
        String lockManager = root.path("lockManager").asText("none");
        JsonNode bladeDown = root.path("bladeDown");
        if (bladeDown.path("action").asText("keep").equals("restartElsewhere") && lockManager.equals("none")) {
            problems.add(at(document, "/bladeDown/action", "restartElsewhere needs lockManager sanlock or lockd:"
                    + " only the lock engine can say that the old QEMU is gone"));
        }
        Map<String, Optional<Expiry>> groupExpiries = expiries(document, root.path("lifecycle").path("groups"),
                "/lifecycle/groups/", problems);
        Map<String, Optional<Expiry>> userExpiries = expiries(document, root.path("lifecycle").path("users"),
                "/lifecycle/users/", problems);
        Optional<Expiry> defaultExpiry = expiry(document, root.path("lifecycle").path("default"),
                "/lifecycle/default", problems);
        Map<String, Course> courses = courses(document, root.path("courses"), problems);
        if (!problems.isEmpty()) {
            return Parsed.failed(problems);
        }
        JsonNode quota = root.path("quota");
        JsonNode addresses = root.path("addresses");
        List<String> sources = new ArrayList<>();
        addresses.path("sources").forEach(n -> sources.add(n.asText()));
        List<Path> leases = new ArrayList<>();
        addresses.path("leases").forEach(n -> leases.add(Path.of(n.asText())));
        JsonNode migration = root.path("migration");
        JsonNode console = root.path("console");
        return Parsed.ok(new ControllerConfig(
                new Users(directories, root.path("users").path("minUid").asInt(1000),
                        root.path("users").path("maxFiles").asInt(64)),
                new Images(Path.of(root.path("images").path("root").asText("/srv/ie-virsh/images")),
                        Quantities.parseBytes(root.path("images").path("boxEntryLimit").asText("64GiB")),
                        root.path("images").path("inspection").asText("enforce"),
                        Path.of(root.path("images").path("inspectionCache").asText("/var/cache/ie-virsh/inspection"))),
                Path.of(root.path("templates").asText("/etc/ie-virsh/templates")),
                root.path("defaultTemplate").asText("standard"),
                new Quota(limits(quota.path("default")), limitsByName(quota.path("groups")),
                        limitsByName(quota.path("users"))),
                List.copyOf(blades),
                new Http(host, port, root.path("http").has("tokenFile")
                        ? Optional.of(Path.of(root.path("http").path("tokenFile").asText())) : Optional.empty()),
                Durations.parse(root.path("resync").asText("30s")),
                Durations.parse(root.path("stopGracePeriod").asText("60s")),
                guard,
                root.path("workers").asInt(Math.max(4, 2 * Runtime.getRuntime().availableProcessors())),
                new Addresses(addresses.has("sources") ? List.copyOf(sources) : Addresses.ALL, List.copyOf(leases)),
                new Console(Path.of(console.path("socket").asText(Console.DEFAULT_SOCKET.toString())),
                        console.path("maxSessionsPerUser").asInt(4)),
                lockManager,
                new Migration(migration.path("parallel").asInt(2), migration.has("bandwidth")
                        ? java.util.OptionalLong.of(migration.path("bandwidth").asLong())
                        : java.util.OptionalLong.empty(),
                        Durations.parse(migration.path("timeout").asText("10m")),
                        migration.path("unsafe").asBoolean(false)),
                new BladeDown(bladeDown.path("action").asText("keep"),
                        Durations.parse(bladeDown.path("after").asText("2m"))),
                root.has("ha") ? Optional.of(new Ha(Path.of(root.path("ha").path("lockFile").asText())))
                        : Optional.empty(),
                new Lifecycle(Durations.parse(root.path("lifecycle").path("warnBefore").asText("7d")), defaultExpiry,
                        groupExpiries, userExpiries),
                root.path("baseImages").has("root")
                        ? new BaseImages(Optional.of(Path.of(root.path("baseImages").path("root").asText())))
                        : BaseImages.NONE,
                courses,
                new Snapshots(root.path("snapshots").path("maxPerVm").asInt(Snapshots.DEFAULT.maxPerVm()))));
    }

    private static Map<String, Course> courses(YamlDocument document, JsonNode node, List<Problem> problems) {
        Map<String, Course> byName = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> {
            String name = e.getKey();
            JsonNode course = e.getValue();
            String pointer = "/courses/" + name;
            Map<String, CourseVm> vms = new LinkedHashMap<>();
            course.path("vms").fields().forEachRemaining(v -> {
                String vmName = name + "-" + v.getKey();
                if (!VirtualMachine.isValidName(vmName)) {
                    problems.add(at(document, pointer + "/vms/" + v.getKey(), "the VM name " + vmName + " (course-vm)"
                            + " is longer than 32 characters; give the course or the VM a shorter name"));
                }
                if (!v.getValue().has("baseImage") && !v.getValue().has("image")) {
                    problems.add(at(document, pointer + "/vms/" + v.getKey(), "write baseImage (one of the admin's"
                            + " bases) or image (an image each student has)"));
                }
                if (v.getValue().has("disk") && !v.getValue().has("baseImage")) {
                    problems.add(at(document, pointer + "/vms/" + v.getKey() + "/disk", "disk sizes the disk made"
                            + " from baseImage; write baseImage or leave disk out"));
                }
                Map<String, String> spec = new LinkedHashMap<>();
                for (String field : CourseVm.FIELDS) {
                    if (v.getValue().has(field)) {
                        spec.put(field, v.getValue().path(field).asText());
                    }
                }
                vms.put(v.getKey(), new CourseVm(v.getKey(), java.util.Collections.unmodifiableMap(spec)));
            });
            byName.put(name, new Course(name, course.path("students").asText(),
                    course.has("instructors") ? Optional.of(course.path("instructors").asText()) : Optional.empty(),
                    expiry(document, course, pointer, problems), limits(course.path("quota")),
                    java.util.Collections.unmodifiableMap(vms)));
        });
        return java.util.Collections.unmodifiableMap(byName);
    }

    /** The schema the file is checked against. */
    public static SchemaCheck schema() {
        return SCHEMA;
    }

    private static Problem at(YamlDocument document, String pointer, String message) {
        Location location = document.locate(pointer);
        return new Problem(document.fileName(), location.value().line(), location.value().column(),
                location.path(), message);
    }

    private static Map<String, Optional<Expiry>> expiries(YamlDocument document, JsonNode node, String pointer,
                                                          List<Problem> problems) {
        Map<String, Optional<Expiry>> byName = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> byName.put(e.getKey(), expiry(document, e.getValue(),
                pointer + e.getKey(), problems)));
        return java.util.Collections.unmodifiableMap(byName);
    }

    private static Optional<Expiry> expiry(YamlDocument document, JsonNode entry, String pointer,
                                           List<Problem> problems) {
        JsonNode value = entry.path("expires");
        if (value.isMissingNode() || value.isNull()) {
            return Optional.empty();
        }
        Optional<Expiry> parsed = Expiry.parse(value.asText());
        if (parsed.isEmpty()) {
            problems.add(at(document, pointer + "/expires", value.asText() + " is not a date (2027-02-15) or an"
                    + " RFC 3339 time"));
        }
        return parsed;
    }

    private static Optional<Resources> resources(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return Optional.empty();
        }
        return Optional.of(new Resources(node.path("vcpus").asInt(0),
                node.has("memory") ? Quantities.parseBytes(node.path("memory").asText()) : 0));
    }

    private static Capacity capacity(JsonNode node) {
        return new Capacity(node.has("vcpus") ? java.util.OptionalInt.of(node.path("vcpus").asInt())
                : java.util.OptionalInt.empty(), node.has("memory")
                ? java.util.OptionalLong.of(Quantities.parseBytes(node.path("memory").asText()))
                : java.util.OptionalLong.empty());
    }

    private static Limits limits(JsonNode node) {
        return new Limits(
                node.has("vms") ? Optional.of(node.path("vms").asInt()) : Optional.empty(),
                node.has("runningVms") ? Optional.of(node.path("runningVms").asInt()) : Optional.empty(),
                node.has("vcpus") ? Optional.of(node.path("vcpus").asInt()) : Optional.empty(),
                node.has("memory") ? Optional.of(Quantities.parseBytes(node.path("memory").asText()))
                        : Optional.empty(),
                node.has("disk") ? Optional.of(Quantities.parseBytes(node.path("disk").asText()))
                        : Optional.empty());
    }

    private static Map<String, Limits> limitsByName(JsonNode node) {
        Map<String, Limits> byName = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> byName.put(e.getKey(), limits(e.getValue())));
        return Map.copyOf(byName);
    }
}
