package org.ievirsh.controller;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.image.BaseImages;
import org.ievirsh.posix.Nss;
import org.ievirsh.template.TemplateLibrary;

/**
 * ConfigChecks are the checks of an admin's config beyond its schema: what
 * the controller would refuse (errors) or run badly with (warnings). The
 * same checks serve {@code ie-virsh validate}, the controller's start and
 * every reload of the config: a config with an error is refused whole.
 */
public final class ConfigChecks {

    private ConfigChecks() {
    }

    /** Checked is what was found: errors refuse the config, warnings are said and the config runs. */
    public record Checked(List<Problem> errors, List<Problem> warnings) {
        public boolean ok() {
            return errors.isEmpty();
        }
    }

    /**
     * What a new config changes that is read only at the start (the HTTP
     * and console sockets, HA, the user directories, images, base images,
     * workers): the reload says so, and the running controller keeps the old.
     */
    public static List<String> needRestart(ControllerConfig old, ControllerConfig fresh) {
        List<String> needs = new ArrayList<>();
        if (!old.http().equals(fresh.http())) {
            needs.add("http");
        }
        if (!old.console().socket().equals(fresh.console().socket())) {
            needs.add("console.socket");
        }
        if (!old.ha().equals(fresh.ha())) {
            needs.add("ha");
        }
        if (!old.users().directories().equals(fresh.users().directories())
                || old.users().minUid() != fresh.users().minUid()) {
            needs.add("users.directories and users.minUid");
        }
        if (!old.images().equals(fresh.images())) {
            needs.add("images");
        }
        if (!old.baseImages().equals(fresh.baseImages())) {
            needs.add("baseImages");
        }
        if (old.workers() != fresh.workers()) {
            needs.add("workers");
        }
        return needs;
    }

    /** Checks {@code config} (read from {@code file}) against this machine. */
    public static Checked check(String file, ControllerConfig config) {
        List<Problem> errors = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        Path templates = config.templates();
        TemplateLibrary library = null;
        if (!Files.isDirectory(templates)) {
            errors.add(at(file, "templates", templates + " is not a directory; put the admin's templates there"));
        } else {
            library = new TemplateLibrary(templates);
            Map<String, String> broken = library.reload();
            broken.forEach((name, why) -> warnings.add(at(file, "templates", why)));
            if (library.get(config.defaultTemplate()).isEmpty()) {
                errors.add(at(file, "defaultTemplate", "there is no usable template " + config.defaultTemplate()
                        + " in " + templates + (library.names().isEmpty() ? "" : "; there are: "
                        + String.join(", ", library.names()))));
            }
        }
        Path images = config.images().root();
        if (!Files.isDirectory(images)) {
            errors.add(at(file, "images.root", images + " is not a directory; create it (mode 0711, root's), and"
                    + " <root>/<user>/ for each student (the student's, mode 0700)"));
        } else if (!searchable(images)) {
            warnings.add(at(file, "images.root", images + " cannot be entered by other users (chmod o+x): every"
                    + " student's QEMU runs as that student and must reach <root>/<user>/"));
        }
        if (!config.images().inspection().equals("off") && !onPath("guestfish")) {
            warnings.add(at(file, "images.inspection", config.images().inspection() + " needs libguestfs on this"
                    + " host (apt install libguestfs-tools linux-image-amd64); until then every look fails and, with"
                    + " enforce, no new VM starts"));
        }
        config.baseImages().root().ifPresent(root -> checkBases(file, root, warnings));
        config.http().tokenFile().ifPresent(token -> {
            if (!Files.isRegularFile(token, LinkOption.NOFOLLOW_LINKS)) {
                errors.add(at(file, "http.tokenFile", token + " is not a regular file"));
            }
        });
        for (ControllerConfig.Blade blade : config.blades()) {
            ControllerConfig.Capacity capacity = blade.capacity();
            if (capacity.vcpus().isPresent() && capacity.vcpus().getAsInt() <= blade.reserved().vcpus()
                    || capacity.memoryBytes().isPresent()
                    && capacity.memoryBytes().getAsLong() <= blade.reserved().memoryBytes()) {
                warnings.add(at(file, "blades." + blade.name(), "reserved leaves no room for VMs on its capacity"));
            }
        }
        if (config.addresses().uses("leases")) {
            for (Path lease : config.addresses().leases()) {
                if (!Files.isReadable(lease)) {
                    warnings.add(at(file, "addresses.leases", lease + (Files.exists(lease) ? " cannot be read" : " does"
                            + " not exist") + " here: its leases are not used until it can be read"));
                }
            }
        }
        checkCourses(file, config, library, errors, warnings);
        for (String user : config.quota().users().keySet()) {
            if (Nss.byName(user).isEmpty()) {
                warnings.add(at(file, "quota.users." + user, "no account " + user + " is known (NSS) now"));
            }
        }
        return new Checked(List.copyOf(errors), List.copyOf(warnings));
    }

    /**
     * The courses: a VM every student of a course would get invalid is an
     * error (a template or a base that cannot be); a group NSS does not know
     * now, or a base not ready yet, a warning.
     */
    private static void checkCourses(String file, ControllerConfig config, TemplateLibrary library,
                                     List<Problem> errors, List<Problem> warnings) {
        if (!config.courses().isEmpty() && !config.users().directories().contains("*")) {
            warnings.add(at(file, "users.directories", "has no *: the courses cannot tell a student's directory"
                    + " from their home, and write no files"));
        }
        BaseImages catalog = null;
        for (ControllerConfig.Course course : config.courses().values()) {
            String where = "courses." + course.name();
            if (Nss.group(course.students()).isEmpty()) {
                warnings.add(at(file, where + ".students", "no group " + course.students() + " is known (NSS) now;"
                        + " its students get their VMs once it is"));
            }
            course.instructors().filter(g -> Nss.group(g).isEmpty()).ifPresent(g -> warnings.add(at(file,
                    where + ".instructors", "no group " + g + " is known (NSS) now")));
            for (ControllerConfig.CourseVm vm : course.vms().values()) {
                String field = where + ".vms." + vm.name();
                String template = vm.spec().getOrDefault("template", config.defaultTemplate());
                if (library != null && library.get(template).isEmpty()) {
                    errors.add(at(file, field + ".template", "there is no usable template " + template + " in "
                            + config.templates() + ": every student's VM would be invalid"));
                }
                String base = vm.spec().get("baseImage");
                if (base == null) {
                    continue;
                }
                if (config.baseImages().root().isEmpty()) {
                    errors.add(at(file, field + ".baseImage", "baseImages.root is not set: there is no base " + base));
                    continue;
                }
                if (catalog == null) {
                    catalog = new BaseImages(config.baseImages().root());
                    catalog.refresh();
                }
                BaseImages.Base found = catalog.all().get(base);
                if (found == null || !found.ready()) {
                    warnings.add(at(file, field + ".baseImage", base + " serves no VM now" + (found == null
                            ? " (there is no " + base + ".qcow2)" : ": " + found.rejected().orElse("not ready"))
                            + "; the course's VMs wait for it"));
                }
            }
        }
    }

    /** The bases as the controller would judge them: a base it would not serve is a warning that says why. */
    private static void checkBases(String file, Path root, List<Problem> warnings) {
        BaseImages catalog = new BaseImages(java.util.Optional.of(root));
        catalog.refresh();
        catalog.rootProblem().ifPresent(problem -> warnings.add(at(file, "baseImages.root", problem
                + "; no VM can start from a base until this is fixed")));
        catalog.all().values().stream().filter(b -> !b.ready()).forEach(b -> warnings.add(at(file,
                "baseImages.root", b.name() + ".qcow2 serves no VM: " + b.rejected().get())));
        if (!onPath("qemu-img")) {
            warnings.add(at(file, "baseImages.root", "qemu-img is not on this host (apt install qemu-utils): no disk"
                    + " can be made from a base"));
        }
        boolean seeds = catalog.all().values().stream()
                .anyMatch(b -> b.descriptor().firstBoot() == org.ievirsh.api.v1.VirtualMachine.FirstBoot.CLOUD_INIT);
        if (seeds && !onPath("genisoimage")) {
            warnings.add(at(file, "baseImages.root", "bases with firstBoot: cloud-init need genisoimage on this host"
                    + " (apt install genisoimage) to make their VMs' seeds"));
        }
    }

    private static Problem at(String file, String field, String message) {
        return new Problem(file, 0, 0, field, message);
    }

    private static boolean searchable(Path dir) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            return mode.contains(PosixFilePermission.OTHERS_EXECUTE);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
