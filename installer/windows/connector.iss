; Inno Setup 6 script: a per-user install of the PyInstaller folder (dist\connector), no admin
; rights. UNTESTED: it cannot be built here; .github/workflows/installers.yml builds it on a
; hosted Windows runner. Build: iscc /DAppVersion=0.1.0 installer\windows\connector.iss
#ifndef AppVersion
  #error Pass the version from protocol/version.py: iscc /DAppVersion=X.Y.Z connector.iss
#endif

[Setup]
AppId={{6C0A7E9B-3D7E-4B47-9A3C-2E8F0C9D51A4}
AppName=Connector
AppVersion={#AppVersion}
AppPublisher=Connector
DefaultDirName={localappdata}\Programs\Connector
DefaultGroupName=Connector
DisableProgramGroupPage=yes
; Per user: no UAC prompt, installs into the user's profile.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
OutputDir=..\..\dist
OutputBaseFilename=Connector-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\connector.exe
CloseApplications=yes

[Tasks]
Name: "startatlogin"; Description: "Start Connector when I sign in"; GroupDescription: "Start-up:"

[Files]
Source: "..\..\dist\connector\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\Connector"; Filename: "{app}\connector.exe"
Name: "{userprograms}\Uninstall Connector"; Filename: "{uninstallexe}"

[Registry]
; The same value the tray's "Start at login" setting writes (ui/autostart.py: RUN_KEY, RUN_VALUE).
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; \
    ValueName: "Connector"; ValueData: """{app}\connector.exe"""; \
    Flags: uninsdeletevalue; Tasks: startatlogin

[Run]
Filename: "{app}\connector.exe"; Description: "Start Connector now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{cmd}"; Parameters: "/C taskkill /IM connector.exe /F"; Flags: runhidden; RunOnceId: "StopConnector"

[UninstallDelete]
; The user's settings, state, logs (%LOCALAPPDATA%\Connector) and the Credential Manager entry
; are left in place on purpose, as on Linux; only the Run value is removed.
Type: dirifempty; Name: "{app}"
