# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# win_nested_vm_provision's script (docs/internals/provisioning.md), for Windows PowerShell 5.1.
# action "inspect" reads; action "apply" runs the planned steps in order and stops at the first
# failure. Values arrive as request data and reach cmdlets by splatting; answer files are written
# with .NET file calls, never as cmdlet parameters (module logging records parameter bindings).
# _target_scripts.py places common.ps1 after the param block (Get-ExactVM, Get-IntegrationService).
param($Parameters)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$mark = 'hyperv.nested: created by win_nested_vm_provision'
$allowedCmdlets = @('Set-VMMemory', 'Set-VMProcessor', 'Set-VMFirmware')

function Test-OurVM($VM) {
    $first = ([string]$VM.Notes -split "`r?`n")[0]
    $first.Trim() -eq $mark
}

function Get-VMReport($VM) {
    $firmware = $null
    if ($VM.Generation -eq 2) { $firmware = Hyper-V\Get-VMFirmware -VM $VM }
    # Found by its GUID, reported by its status enum name: Name and PrimaryStatusDescription are localised.
    $heartbeat = Get-IntegrationService $VM 'Heartbeat'
    [ordered]@{
        name = [string]$VM.Name
        id = ([string]$VM.Id).ToLowerInvariant()
        state = [string]$VM.State
        generation = [int]$VM.Generation
        version = [string]$VM.Version
        processor_count = [int]$VM.ProcessorCount
        expose_virtualization_extensions = [bool](Hyper-V\Get-VMProcessor -VM $VM).ExposeVirtualizationExtensions
        dynamic_memory_enabled = [bool]$VM.DynamicMemoryEnabled
        startup_memory_bytes = [int64]$VM.MemoryStartup
        notes = [string]$VM.Notes
        adapters = @(Hyper-V\Get-VMNetworkAdapter -VM $VM | ForEach-Object {
            [ordered]@{
                name = [string]$_.Name
                switch_name = $(if ($_.SwitchName) { [string]$_.SwitchName } else { $null })
                mac_address = [string]$_.MacAddress
                mac_address_spoofing = [string]$_.MacAddressSpoofing
                ip_addresses = @($_.IPAddresses | ForEach-Object { [string]$_ })
            }
        })
        hard_drives = @(Hyper-V\Get-VMHardDiskDrive -VM $VM | ForEach-Object { [string]$_.Path })
        secure_boot = $(if ($firmware) { [string]$firmware.SecureBoot } else { $null })
        secure_boot_template = $(if ($firmware) { [string]$firmware.SecureBootTemplate } else { $null })
        heartbeat = $(if ($heartbeat -and $heartbeat.Enabled) { [string]$heartbeat.PrimaryOperationalStatus } else { $null })
    }
}

function Get-FileReport([string]$Path) {
    $exists = [System.IO.File]::Exists($Path)
    $parent = $null
    if ($exists -and $Path -like '*.vhd*') {
        try { $parent = [string](Hyper-V\Get-VHD -Path $Path).ParentPath } catch { $parent = $null }
        if (-not $parent) { $parent = $null }
    }
    [ordered]@{ path = $Path; exists = $exists; parent_path = $parent }
}

function Invoke-Inspect($Request) {
    if (-not (Get-Module -ListAvailable -Name Hyper-V)) {
        return [ordered]@{ hyperv_module = $false; vms = @(); missing = @(); duplicates = @(); switches = @(); files = @() }
    }
    $all = @(Hyper-V\Get-VM)
    $vms = @(); $missing = @(); $duplicates = @()
    foreach ($name in @($Request.vm_names)) {
        $found = @($all | Where-Object { $_.Name -eq [string]$name })
        if ($found.Count -eq 0) { $missing += [string]$name }
        elseif ($found.Count -gt 1) { $duplicates += [string]$name }
        else { $vms += Get-VMReport $found[0] }
    }
    $versions = @(Hyper-V\Get-VMHostSupportedVersion | ForEach-Object { '{0}.{1}' -f $_.Version.Major, $_.Version.Minor })
    $default = @(Hyper-V\Get-VMHostSupportedVersion -Default | ForEach-Object { '{0}.{1}' -f $_.Version.Major, $_.Version.Minor })
    [ordered]@{
        hyperv_module = $true
        vms = $vms
        missing = $missing
        duplicates = $duplicates
        switches = @(Hyper-V\Get-VMSwitch | ForEach-Object { [string]$_.Name })
        supported_versions = $versions
        default_version = $(if ($default.Count -gt 0) { $default[0] } else { $null })
        files = @(@($Request.paths) | ForEach-Object { Get-FileReport ([string]$_) })
    }
}

function Write-TextFile([string]$Path, [string]$Content) {
    # UTF-8 without a byte order mark; a .NET call, so the content is no cmdlet parameter.
    $folder = [System.IO.Path]::GetDirectoryName($Path)
    if (-not [System.IO.Directory]::Exists($folder)) { [void][System.IO.Directory]::CreateDirectory($folder) }
    [System.IO.File]::WriteAllText($Path, $Content, (New-Object System.Text.UTF8Encoding($false)))
}

function Invoke-WriteUnattend($Step) {
    $disk = Hyper-V\Mount-VHD -Path ([string]$Step.disk_path) -PassThru
    try {
        $letters = @(Storage\Get-Partition -DiskNumber $disk.DiskNumber | Where-Object { $_.DriveLetter } | ForEach-Object { [string]$_.DriveLetter })
        $system = @($letters | Where-Object { [System.IO.Directory]::Exists(('{0}:\Windows\System32' -f $_)) })
        if ($system.Count -ne 1) { throw "The image $($Step.disk_path) has no single Windows volume to put the answer file on." }
        Write-TextFile ('{0}:\{1}' -f $system[0], [string]$Step.file) ([string]$Step.content)
    }
    finally {
        Hyper-V\Dismount-VHD -Path ([string]$Step.disk_path)
    }
}

function Invoke-NewSeedDisk($Step) {
    $path = [string]$Step.path
    $folder = [System.IO.Path]::GetDirectoryName($path)
    if (-not [System.IO.Directory]::Exists($folder)) { [void][System.IO.Directory]::CreateDirectory($folder) }
    [void](Hyper-V\New-VHD -Path $path -SizeBytes 64MB -Dynamic)
    $disk = Hyper-V\Mount-VHD -Path $path -PassThru
    try {
        [void](Storage\Initialize-Disk -Number $disk.DiskNumber -PartitionStyle MBR)
        $partition = Storage\New-Partition -DiskNumber $disk.DiskNumber -UseMaximumSize -AssignDriveLetter
        [void](Storage\Format-Volume -Partition $partition -FileSystem FAT32 -NewFileSystemLabel ([string]$Step.label) -Confirm:$false -Force)
        foreach ($file in $Step.files.PSObject.Properties) {
            Write-TextFile ('{0}:\{1}' -f $partition.DriveLetter, $file.Name) ([string]$file.Value)
        }
    }
    finally {
        Hyper-V\Dismount-VHD -Path $path
    }
}

function Invoke-NewVM($Step) {
    $splat = @{ Name = [string]$Step.vm; Generation = [int16]$Step.generation; MemoryStartupBytes = [int64]$Step.memory_startup_bytes
                Path = [string]$Step.path; NoVHD = $true }
    if ($Step.switch_name) { $splat.SwitchName = [string]$Step.switch_name }
    if ($Step.version) { $splat.Version = [string]$Step.version }
    $vm = Hyper-V\New-VM @splat
    try {
        Hyper-V\Set-VM -VM $vm -Notes ([string]$Step.notes)
    }
    catch {
        # Unmarked, the VM would be someone else's to every later run: take it away again.
        Hyper-V\Remove-VM -VM $vm -Force
        throw
    }
}

function Wait-Heartbeat($VM, [int]$TimeoutSeconds) {
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ((Get-Date) -lt $deadline) {
        $current = Resolve-ExactVM $VM.Name
        if ([string]$current.State -eq 'Running' -and [string]$current.Heartbeat -like 'Ok*') { return }
        Start-Sleep -Seconds 2
    }
    throw "VM '$($VM.Name)' did not report a healthy heartbeat within $TimeoutSeconds seconds."
}

function Invoke-Step($Step) {
    $vm = $null
    if ($Step.kind -notin @('new_disk', 'write_unattend', 'new_seed_disk', 'new_vm')) { $vm = Resolve-ExactVM ([string]$Step.vm) }
    if ($null -ne $vm -and $Step.kind -ne 'remove_vm' -and $Step.kind -ne 'turn_off' -and -not (Test-OurVM $vm)) {
        throw "VM '$($vm.Name)' was not created by win_nested_vm_provision: it is not changed."
    }
    switch ([string]$Step.kind) {
        'new_disk' {
            $folder = [System.IO.Path]::GetDirectoryName([string]$Step.path)
            if (-not [System.IO.Directory]::Exists($folder)) { [void][System.IO.Directory]::CreateDirectory($folder) }
            if ($Step.mode -eq 'copy') { Microsoft.PowerShell.Management\Copy-Item -LiteralPath ([string]$Step.parent_path) -Destination ([string]$Step.path) }
            else { [void](Hyper-V\New-VHD -Path ([string]$Step.path) -ParentPath ([string]$Step.parent_path) -Differencing) }
        }
        'write_unattend' { Invoke-WriteUnattend $Step }
        'new_seed_disk' { Invoke-NewSeedDisk $Step }
        'new_vm' { Invoke-NewVM $Step }
        'cmdlet' {
            if ($allowedCmdlets -notcontains [string]$Step.cmdlet) { throw "Cmdlet '$($Step.cmdlet)' is not allowed here." }
            $splat = ConvertTo-Splat $Step.parameters
            $splat.VM = $vm
            & "Hyper-V\$($Step.cmdlet)" @splat
        }
        'add_disk' {
            $drive = Hyper-V\Add-VMHardDiskDrive -VM $vm -Path ([string]$Step.path) -Passthru
            if ($Step.first_boot_device) { Hyper-V\Set-VMFirmware -VM $vm -FirstBootDevice $drive }
        }
        'adapter' {
            if ([int]$Step.index -eq 0) {
                $adapter = @(Hyper-V\Get-VMNetworkAdapter -VM $vm)[0]
            }
            else {
                $add = @{ VM = $vm; Name = [string]$Step.name; Passthru = $true }
                if ($Step.switch_name) { $add.SwitchName = [string]$Step.switch_name }
                $adapter = Hyper-V\Add-VMNetworkAdapter @add
            }
            Hyper-V\Set-VMNetworkAdapter -VMNetworkAdapter $adapter -MacAddressSpoofing ([string]$Step.mac_address_spoofing)
        }
        'start' {
            Hyper-V\Start-VM -VM $vm
            Wait-Heartbeat $vm ([int]$Step.timeout_seconds)
        }
        'turn_off' {
            if (-not (Test-OurVM $vm)) { throw "VM '$($vm.Name)' was not created by win_nested_vm_provision: it is not stopped." }
            Hyper-V\Stop-VM -VM $vm -TurnOff -Force
        }
        'remove_vm' {
            if (-not (Test-OurVM $vm)) { throw "VM '$($vm.Name)' was not created by win_nested_vm_provision: it is not removed." }
            if (([string]$vm.Id).ToLowerInvariant() -ne ([string]$Step.vm_id).ToLowerInvariant()) { throw "VM '$($vm.Name)' changed since it was inspected." }
            Hyper-V\Remove-VM -VM $vm -Force
            foreach ($file in @($Step.files)) {
                if ([System.IO.File]::Exists([string]$file)) { [System.IO.File]::Delete([string]$file) }
            }
        }
        default { throw "Unknown provisioning step '$($Step.kind)'." }
    }
}

function Invoke-Apply($Request) {
    $report = @()
    $failedIndex = $null
    $index = 0
    foreach ($step in @($Request.steps)) {
        if ($null -ne $failedIndex) {
            $report += [ordered]@{ index = $index; status = 'not_run'; message = $null; duration_ms = 0 }
            $index++
            continue
        }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            Invoke-Step $step
            $report += [ordered]@{ index = $index; status = 'ok'; message = $null; duration_ms = [int]$watch.ElapsedMilliseconds }
        }
        catch {
            $failedIndex = $index
            $report += [ordered]@{ index = $index; status = 'failed'; message = $_.Exception.Message; duration_ms = [int]$watch.ElapsedMilliseconds }
        }
        $index++
    }
    # A foreach statement, not ForEach-Object: module logging would record each step, the answer
    # file with its password included, as a pipeline input binding (event 4103). Select-Object
    # -Unique compared the names case-sensitively, as -cnotcontains does.
    $names = @()
    foreach ($step in @($Request.steps)) { if ($names -cnotcontains [string]$step.vm) { $names += [string]$step.vm } }
    $vms = [ordered]@{}
    foreach ($name in $names) {
        $found = @(Get-ExactVM ([string]$name))
        if ($found.Count -eq 1) { $vms[$name] = Get-VMReport $found[0] }
    }
    [ordered]@{ steps = $report; failed_index = $failedIndex; vms = $vms }
}

$result = if ($Parameters.action -eq 'apply') { Invoke-Apply $Parameters } else { Invoke-Inspect $Parameters }
[ordered]@{ ok = $true; result = $result }
