package org.ievirsh.support;

/**
 * VagrantSecrets is the test data of image inspection, written down once and
 * independently of the code under test: Vagrant's published insecure public
 * keys, a key of a student, and hashes of the password "vagrant".
 */
public final class VagrantSecrets {
    public static final String RSA_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw"
            + "+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8H"
            + "fdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBY"
            + "SdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure"
            + " public key";
    public static final String ED25519_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJ"
            + "On5Y vagrant insecure public key";
    public static final String OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOfTheStudentXXXXXXXXXXXXXXXXXXXXXX"
            + " student@laptop";
    /** The key data (base64) of each key line. */
    public static final String RSA_DATA = RSA_KEY.split(" ")[1];
    public static final String ED25519_DATA = ED25519_KEY.split(" ")[1];

    // Hashes of "vagrant": `openssl passwd -1/-5/-6 -salt abcdefgh vagrant`, and perl's crypt for yescrypt
    // (perl -e 'print crypt("vagrant", q($y$j9T$F5Jx5fExrKuPp53xLKQ..1$))'); YESCRYPT_OTHER is of another password.
    public static final String MD5 = "$1$abcdefgh$UxEOFliZ1.VXPaDSP.XDv1";
    public static final String SHA256 = "$5$abcdefgh$h9y3gh0/XWB2trple5ZwHn41ofs0y6lE9eMktw8fG2B";
    public static final String SHA512 = "$6$abcdefgh$E1hF0gaN0DpDb6CPUzLu2iVL8Dk4IHUSGbTjeK66FbWF.6b8XrgzScIZctPmnNtr"
            + "dCxnYsTEiY4Y28.1ne0fE0";
    public static final String YESCRYPT = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$bQBX7iD1jJiRt28aFh2XjJLT876GPIBsd/wyyBni4A0";
    public static final String YESCRYPT_OTHER = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$boYxT86g/C4DVkNoeujrWOk8fDSh7LDsIEmsF02hCd4";

    private VagrantSecrets() {
    }
}
