package org.ievirsh.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.ievirsh.image.EmptyQcow2;

/**
 * ChaosStudents are the students of {@code bench chaos} at work: each edit
 * one student's, drawn at random, as their editor and {@code cp} make it:
 * runStrategy switched, a VM file added (naming a free image of theirs),
 * removed, renamed to another VM's name, or an image replaced that no
 * running VM needs. At most {@link ChaosWorld#QUOTA_VMS} files each, so
 * every file can be what it asks; more than {@link ChaosWorld#QUOTA_RUNNING}
 * of them may ask to run.
 */
final class ChaosStudents {
    private static final String[] STRATEGIES = {"Always", "Halted"};

    private final ChaosWorld world;
    private final ChaosFaults faults;
    private final Random random;
    private final Consumer<String> log;
    private int edits;

    ChaosStudents(ChaosWorld world, ChaosFaults faults, Random random, Consumer<String> log) {
        this.world = world;
        this.faults = faults;
        this.random = random;
        this.log = log;
    }

    int edits() {
        return edits;
    }

    /** Gives every student their first files: one or two VMs, running or not. */
    void begin() throws IOException {
        for (String student : world.students) {
            int count = 1 + random.nextInt(2);
            for (int i = 0; i < count; i++) {
                world.writeFile(student, "vm" + i, new ChaosWorld.VmFile("vm" + i, STRATEGIES[random.nextInt(2)]));
            }
        }
    }

    /** One edit by one student (none while their directory is unreadable). */
    void edit() throws IOException {
        String student = world.students.get(random.nextInt(world.students.size()));
        if (faults.unreadable(student)) {
            return;
        }
        synchronized (world) {
            Map<String, ChaosWorld.VmFile> files = world.files.get(student);
            List<String> named = new ArrayList<>(files.keySet());
            List<String> freeNames = new ArrayList<>(ChaosWorld.IMAGES);
            freeNames.removeAll(named);
            List<String> freeImages = new ArrayList<>(ChaosWorld.IMAGES);
            files.values().forEach(f -> freeImages.remove(f.image()));
            int what = random.nextInt(5);
            if (what == 0 && !named.isEmpty()) {
                String vm = named.get(random.nextInt(named.size()));
                ChaosWorld.VmFile now = files.get(vm);
                ChaosWorld.VmFile next = new ChaosWorld.VmFile(now.image(),
                        now.runStrategy().equals("Always") ? "Halted" : "Always");
                world.writeFile(student, vm, next);
                log.accept(student + " sets " + vm + " " + next.runStrategy());
            } else if (what == 1 && named.size() < ChaosWorld.QUOTA_VMS) {
                String vm = freeNames.get(random.nextInt(freeNames.size()));
                String image = freeImages.get(random.nextInt(freeImages.size()));
                world.writeFile(student, vm, new ChaosWorld.VmFile(image, STRATEGIES[random.nextInt(2)]));
                log.accept(student + " adds " + vm + " on " + image + ".qcow2");
            } else if (what == 2 && named.size() > 1) {
                String vm = named.get(random.nextInt(named.size()));
                world.removeFile(student, vm);
                log.accept(student + " removes " + vm);
            } else if (what == 3 && !named.isEmpty()) {
                String from = named.get(random.nextInt(named.size()));
                String to = freeNames.get(random.nextInt(freeNames.size()));
                world.renameFile(student, from, to);
                log.accept(student + " renames " + from + " to " + to);
            } else if (what == 4 && !freeImages.isEmpty()) {
                // An image no file names (a removed VM's QEMU may still hold the old one: it keeps its inode).
                String image = freeImages.get(random.nextInt(freeImages.size()));
                world.writeImage(student, image, EmptyQcow2.of((64L + random.nextInt(64)) << 20));
                log.accept(student + " replaces " + image + ".qcow2");
            } else {
                return;
            }
            edits++;
        }
    }
}
