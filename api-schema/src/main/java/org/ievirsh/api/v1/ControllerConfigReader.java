package org.ievirsh.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
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
import org.ievirsh.api.v1.ControllerConfig.Addresses;
import org.ievirsh.api.v1.ControllerConfig.BaseImages;
import org.ievirsh.api.v1.ControllerConfig.Blade;
import org.ievirsh.api.v1.ControllerConfig.BladeDown;
import org.ievirsh.api.v1.ControllerConfig.Capacity;
import org.ievirsh.api.v1.ControllerConfig.Console;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.ControllerConfig.CourseVm;
import org.ievirsh.api.v1.ControllerConfig.DeletionGuard;
import org.ievirsh.api.v1.ControllerConfig.Ha;
import org.ievirsh.api.v1.ControllerConfig.Http;
import org.ievirsh.api.v1.ControllerConfig.Images;
import org.ievirsh.api.v1.ControllerConfig.Lifecycle;
import org.ievirsh.api.v1.ControllerConfig.Limits;
import org.ievirsh.api.v1.ControllerConfig.Migration;
import org.ievirsh.api.v1.ControllerConfig.Quota;
import org.ievirsh.api.v1.ControllerConfig.Resources;
import org.ievirsh.api.v1.ControllerConfig.Snapshots;
import org.ievirsh.api.v1.ControllerConfig.Users;
import org.ievirsh.api.yaml.Location;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

/**
 * ControllerConfigReader reads an admin's {@code controller.yaml} once the
 * schema has passed it: the checks a schema cannot make (a blade named twice,
 * a glob with {@code ..}, restartElsewhere without a lock engine, dates,
 * course VM names), each with its line and column, then every default.
 */
final class ControllerConfigReader {

    private ControllerConfigReader() {
    }

    /** Reads a config file; {@code fileName} names it in problems, {@code schema} checks it first. */
    static Parsed<ControllerConfig> parse(String fileName, byte[] bytes, SchemaCheck schema) {
        Parsed<YamlDocument> yaml = SafeYaml.parse(fileName, bytes);
        if (!yaml.isOk()) {
            return yaml.asFailed();
        }
        YamlDocument document = yaml.orThrow();
        List<Problem> problems = new ArrayList<>(schema.check(document));
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
