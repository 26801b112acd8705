package org.ievirsh.image.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ievirsh.support.VagrantSecrets.ED25519_DATA;
import static org.ievirsh.support.VagrantSecrets.MD5;
import static org.ievirsh.support.VagrantSecrets.RSA_DATA;
import static org.ievirsh.support.VagrantSecrets.SHA256;
import static org.ievirsh.support.VagrantSecrets.SHA512;
import static org.ievirsh.support.VagrantSecrets.YESCRYPT;
import static org.ievirsh.support.VagrantSecrets.YESCRYPT_OTHER;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the inspection reads inside a guest: authorized_keys, /etc/shadow and sshd_config, without a guest. */
class GuestChecksTest {
    @Test
    void theInsecureKeysAreFoundByTheirDataWhateverOptionsAndCommentsSurroundThem() {
        String file = "# a comment\n"
                + "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOfTheStudentXXXXXXXXXXXXXXXXXXXXXX me@laptop\n"
                + "no-pty,command=\"echo a b\",from=\"10.0.0.1\" ssh-rsa " + RSA_DATA + " renamed comment\n"
                + "\tssh-ed25519 " + ED25519_DATA + "\n";
        assertEquals(List.of("Vagrant's insecure RSA key", "Vagrant's insecure ED25519 key"),
                VagrantKeys.foundIn(file));
    }

    @Test
    void aCommentedOutKeyOrAnotherKeyIsNotAFinding() {
        assertEquals(List.of(), VagrantKeys.foundIn("# ssh-rsa " + RSA_DATA + " vagrant\n"));
        assertEquals(List.of(), VagrantKeys.foundIn("ssh-rsa " + RSA_DATA.substring(0, 100) + "AAAA== other\n"));
        assertEquals(Optional.empty(), VagrantKeys.keyData("command=\"ssh-rsa " + RSA_DATA + "\""));
    }

    @Test
    void everyHashOfTheVagrantPasswordIsRecognisedThroughLibcrypt() {
        for (String hash : List.of(MD5, SHA256, SHA512, YESCRYPT)) {
            assertEquals(List.of("the account vagrant has the password \"vagrant\""),
                    ShadowCheck.weakAccounts("vagrant:" + hash + ":19000:0:99999:7:::\n"), hash);
        }
    }

    @Test
    void anotherPasswordALockedAccountOrAnEmptyNonRootOneIsNotAFinding() {
        String shadow = "root:*:19000:0:99999:7:::\n"
                + "daemon:!:19000::::::\n"
                + "alice:" + YESCRYPT_OTHER + ":19000:0:99999:7:::\n"
                + "bob:!" + SHA512 + ":19000:0:99999:7:::\n"
                + "guest::19000:0:99999:7:::\n";
        assertEquals(List.of(), ShadowCheck.weakAccounts(shadow));
    }

    @Test
    void rootWithAnEmptyPasswordIsAFinding() {
        assertEquals(List.of("root has an empty password"), ShadowCheck.weakAccounts("root::19000:0:99999:7:::\n"));
    }

    @Test
    void sshdTakesTheFirstValueAndMatchBlocksOnlyAddKeyFiles() {
        SshdConfig sshd = SshdConfig.effective(SshdConfig.parse(
                "# PasswordAuthentication no\n"
                        + "PasswordAuthentication yes\n"
                        + "passwordauthentication no\n"
                        + "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u\n"
                        + "Match User admin\n"
                        + "  AuthorizedKeysFile /srv/keys/%u\n"
                        + "  PasswordAuthentication no\n").lines());
        assertTrue(sshd.acceptsPasswords());
        assertEquals(List.of(".ssh/authorized_keys", "/etc/ssh/keys/%u", "/srv/keys/%u"), sshd.authorizedKeysFiles());
    }

    @Test
    void withoutASettingOpenSshAcceptsPasswordsAndReadsTheUsualKeyFiles() {
        SshdConfig sshd = SshdConfig.effective(SshdConfig.parse("Port 22\n").lines());
        assertTrue(sshd.acceptsPasswords());
        assertEquals(List.of(".ssh/authorized_keys", ".ssh/authorized_keys2"), sshd.authorizedKeysFiles());
        assertFalse(SshdConfig.effective(SshdConfig.parse("PasswordAuthentication=no\n").lines()).acceptsPasswords());
    }

    @Test
    void keyFilePatternsExpandForEachAccount() {
        assertEquals("/home/vagrant/.ssh/authorized_keys",
                SshdConfig.expand(".ssh/authorized_keys", "vagrant", "/home/vagrant", "1000"));
        assertEquals("/etc/ssh/keys/vagrant-1000%", SshdConfig.expand("/etc/ssh/keys/%u-%U%%", "vagrant",
                "/home/vagrant", "1000"));
        assertEquals("/var/lib/x/keys", SshdConfig.expand("%h/keys", "x", "/var/lib/x", "5"));
    }

    @Test
    void guestfishArgumentsKeepEveryCharacterOfAGuestName() {
        assertEquals("\"/home/a \\\"b\\\" \\\\c\\x0a/.ssh\"", Guestfish.quote("/home/a \"b\" \\c\n/.ssh"));
    }
}
