package org.ievirsh.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DirectoryWatcherTest: which changes of a student's directory wake the student, through the kernel's inotify. */
class DirectoryWatcherTest {
    @TempDir
    Path tmp;

    @Test
    void anEditorsSwapAndBackupFilesWakeNobodyButTheSavedFileDoes() throws Exception {
        Path alice = Files.createDirectories(tmp.resolve("alice"));
        // There before the watch: saving it again makes one event (closed after writing), not two (made, then
        // closed), which may come in two reads and wake twice.
        Files.writeString(alice.resolve("web.yaml"), "name: web\n");
        List<Path> woken = new CopyOnWriteArrayList<>();
        try (DirectoryWatcher watcher = new DirectoryWatcher(woken::add, user -> { }, () -> { })) {
            watcher.watch(Set.of(), Set.of(alice), Map.of());
            for (int i = 0; i < 5; i++) {
                Files.writeString(alice.resolve(".web.yaml.swp"), "swap " + i);
                Files.writeString(alice.resolve("web.yaml~"), "backup " + i);
                Files.writeString(alice.resolve("notes.txt"), "notes " + i);
                Files.createDirectories(alice.resolve(".status"));
                Files.writeString(alice.resolve(".status").resolve("web.yaml"), "phase: Running " + i);
            }
            Files.writeString(alice.resolve("web.yaml"), "name: web\nimage: web.qcow2\n");
            // One inotify queue keeps the events in order: once the saved file has woken the student, every
            // change before it has been heard, and none of them woke anyone.
            await().atMost(Duration.ofSeconds(10)).until(() -> !woken.isEmpty());
            assertEquals(List.of(alice), woken);
        }
    }
}
