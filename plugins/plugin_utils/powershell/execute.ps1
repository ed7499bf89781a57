# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The executor (docs/internals/wire-protocol.md section 3), for Windows PowerShell 5.1.
param($Parameters)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$hostCmdlets = @(
    'Set-VMProcessor', 'Set-VMMemory', 'Set-VMNetworkAdapter', 'Connect-VMNetworkAdapter',
    'Update-VMVersion', 'Remove-VMSavedState', 'Start-VM', 'Stop-VM', 'New-VMSwitch',
    'Remove-VMSwitch', 'New-NetNat', 'Remove-NetNat', 'New-NetIPAddress', 'Remove-NetIPAddress',
    'Add-NetNatStaticMapping', 'Remove-NetNatStaticMapping', 'Set-VMSecurity',
    'New-NetFirewallRule', 'Remove-NetFirewallRule'
)
$guestCmdlets = @(
    'New-NetIPAddress', 'Remove-NetIPAddress', 'Set-DnsClientServerAddress', 'Set-NetIPInterface',
    'Remove-NetRoute'
)

# Stops issued with "wait": false (wire-protocol.md section 3): VM name -> the Stop-VM -AsJob job,
# or $null for a turn-off (already done). wait_vm and ensure_running of this same call read it.
$script:pendingStops = @{}
# ... and when each of those stops' own timeout_seconds run out (ensure_running waits no longer).
$script:pendingStopDeadlines = @{}

function ConvertTo-Splat($Object) {
    $table = @{}
    if ($null -ne $Object) {
        foreach ($property in $Object.PSObject.Properties) { $table[$property.Name] = $property.Value }
    }
    $table
}

function Resolve-ExactVM([string]$Name) {
    # -Name/-VMName are wildcard patterns in Hyper-V: compare names exactly instead.
    $found = @(Get-VM | Where-Object { $_.Name -eq $Name })
    if ($found.Count -eq 0) { throw "No virtual machine named '$Name' exists on this host." }
    if ($found.Count -gt 1) { throw "More than one virtual machine is named '$Name' on this host." }
    $found[0]
}

# Restart marks (wire-protocol.md section 3.1): one file per VM, named after its Id, never its name.
function Get-RestartMarkFolder {
    Join-Path $env:ProgramData 'hyperv.nested\restart-marks'
}

function Get-RestartMarkPath($VM) {
    Join-Path (Get-RestartMarkFolder) ('{0}.json' -f ([string]$VM.Id).ToLowerInvariant())
}

function Write-RestartMark($VM) {
    # Any failure throws: the caller then fails the operation before it stops the VM.
    $path = Get-RestartMarkPath $VM
    $folder = Get-RestartMarkFolder
    if (-not [System.IO.Directory]::Exists($folder)) {
        # Files under ProgramData belong to whoever wrote them: let every member of Hyper-V
        # Administrators (S-1-5-32-578) remove the marks another member's run left.
        $security = New-Object System.Security.AccessControl.DirectorySecurity
        $members = New-Object System.Security.Principal.SecurityIdentifier('S-1-5-32-578')
        $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($members, 'Modify', $inherit, 'None', 'Allow')
        $security.AddAccessRule($rule)
        $null = [System.IO.Directory]::CreateDirectory($folder, $security)
    }
    $mark = [ordered]@{
        vm_id = ([string]$VM.Id).ToLowerInvariant()
        vm_name = [string]$VM.Name
        stopped_at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
        stopped_by = 'hyperv.nested.win_nested_vm'
    }
    Set-Content -LiteralPath $path -Value (ConvertTo-Json -InputObject $mark -Compress) -Encoding UTF8 -ErrorAction Stop
}

function Remove-RestartMark($VM) {
    # Best effort: the VM runs, so a mark left behind is stale and the next run clears it.
    $path = Get-RestartMarkPath $VM
    if (Test-Path -LiteralPath $path -PathType Leaf) {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    }
}

function Invoke-CmdletOperation($Operation, [string[]]$Allowed) {
    if ($Allowed -notcontains $Operation.cmdlet) {
        throw "The cmdlet '$($Operation.cmdlet)' is not in the hyperv.nested executor's allow-list."
    }
    $splat = ConvertTo-Splat $Operation.parameters
    if ($Operation.vm) {
        $vm = Resolve-ExactVM $Operation.vm
        if ($Operation.adapter_id) {
            $adapter = @(Get-VMNetworkAdapter -VM $vm | Where-Object { $_.Id -eq $Operation.adapter_id })
            if ($adapter.Count -ne 1) { throw "The VM '$($Operation.vm)' has no network adapter with id '$($Operation.adapter_id)'." }
            $splat['VMNetworkAdapter'] = $adapter[0]
        }
        else {
            $splat['VM'] = $vm
        }
    }
    $null = & $Operation.cmdlet @splat -ErrorAction Stop
}

function Get-WaitOption($Operation) {
    # "wait" is optional and defaults to true; a value that is present must be a JSON boolean.
    if ($null -eq $Operation.wait) { return $true }
    if ($Operation.wait -isnot [bool]) { throw 'wait must be true or false.' }
    $Operation.wait
}

function Wait-VMState([string]$Name, [string]$State, [int]$TimeoutSeconds, $Job) {
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($true) {
        $vm = Resolve-ExactVM $Name
        $heartbeatReady = $true
        if ($State -eq 'Running') {
            $heartbeat = Get-VMIntegrationService -VM $vm | Where-Object { $_.Name -eq 'Heartbeat' }
            if ($heartbeat -and $heartbeat.Enabled) { $heartbeatReady = [string]$vm.Heartbeat -like 'Ok*' }
        }
        if ([string]$vm.State -eq $State -and $heartbeatReady) { return }
        if ($Job -and $Job.State -eq 'Failed') {
            $reason = $Job.ChildJobs[0].JobStateInfo.Reason
            throw "Stop-VM failed for '$Name': $($reason.Message)"
        }
        if ((Get-Date) -gt $deadline) {
            # The same sentences as the simulator's (tests/simulator/hvsim/powershell/executor.py).
            if ($State -eq 'Off') { throw "VM '$Name' did not shut down within $TimeoutSeconds seconds (it is $([string]$vm.State))." }
            throw "VM '$Name' did not report Running with a healthy heartbeat within $TimeoutSeconds seconds (it is $([string]$vm.State))."
        }
        Start-Sleep -Milliseconds 500
    }
}

function Invoke-Operation($Operation) {
    switch ($Operation.kind) {
        'cmdlet' { Invoke-CmdletOperation $Operation $hostCmdlets }
        'stop_vm' {
            $wait = Get-WaitOption $Operation
            $vm = Resolve-ExactVM $Operation.vm
            $markForRestart = $false
            if ($null -ne $Operation.mark_for_restart) {
                if ($Operation.mark_for_restart -isnot [bool]) { throw 'mark_for_restart must be true or false.' }
                $markForRestart = $Operation.mark_for_restart
            }
            if ($markForRestart -and [string]$vm.State -eq 'Running') {
                # Written before Stop-VM: when it cannot be written, the VM is not stopped.
                Write-RestartMark $vm
            }
            $job = $null
            if ($Operation.mode -eq 'turn_off') {
                Stop-VM -VM $vm -TurnOff -Force
            }
            else {
                $job = Stop-VM -VM $vm -Force -AsJob
                if ($wait) {
                    Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job
                }
            }
            if (-not $wait) {
                # Issued, not waited for: a later wait_vm (or ensure_running) of this call waits.
                $name = [string]$vm.Name
                $script:pendingStops[$name] = $job
                $script:pendingStopDeadlines[$name] = (Get-Date).AddSeconds([int]$Operation.timeout_seconds)
            }
        }
        'start_vm' {
            $wait = Get-WaitOption $Operation
            $vm = Resolve-ExactVM $Operation.vm
            Start-VM -VM $vm
            if ($wait) {
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            # Start-VM returned: the VM runs (with wait false, its guest may still be booting).
            Remove-RestartMark $vm
        }
        'wait_vm' {
            # Waits for an earlier stop_vm/start_vm with wait false; changes nothing itself.
            $vm = Resolve-ExactVM $Operation.vm
            $name = [string]$vm.Name
            $state = $Operation.state
            if ($state -is [string] -and $state -ceq 'Off') {
                # The pending job (if any) makes a failed Stop-VM fail with its reason.
                $job = $script:pendingStops[$name]
                Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job
                $script:pendingStops.Remove($name)
            }
            elseif ($state -is [string] -and $state -ceq 'Running') {
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            else {
                throw "wait_vm cannot wait for the state '$state': it must be 'Off' or 'Running'."
            }
        }
        'ensure_running' {
            $vm = Resolve-ExactVM $Operation.vm
            $name = [string]$vm.Name
            $pending = $script:pendingStops[$name]
            if ($null -ne $pending -and @('Completed', 'Failed', 'Stopped') -notcontains [string]$pending.State) {
                # A stop this call issued without waiting may still be shutting the VM down: let it
                # end first, so that the VM is not found running now and left off a moment later.
                # Its outcome does not matter here: the state read below decides.
                # A guest that ignores the shutdown has had the stop's own timeout: no second one.
                $left = [int][Math]::Ceiling(($script:pendingStopDeadlines[$name] - (Get-Date)).TotalSeconds)
                $limit = [Math]::Min([int]$Operation.timeout_seconds, $left)
                if ($limit -gt 0) { $null = Wait-Job -Job $pending -Timeout $limit }
                $vm = Resolve-ExactVM $Operation.vm
            }
            if ([string]$vm.State -ne 'Running') {
                Start-VM -VM $vm
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            Remove-RestartMark $vm
        }
        'clear_restart_mark' {
            $vm = Resolve-ExactVM $Operation.vm
            Remove-RestartMark $vm
            # Clearing is this operation's only job: a mark that stays would restart the VM on a later run.
            if (Test-Path -LiteralPath (Get-RestartMarkPath $vm) -PathType Leaf) {
                throw "The restart mark of the VM '$($Operation.vm)' ($(Get-RestartMarkPath $vm)) could not be removed."
            }
        }
        'guest' {
            $vm = Resolve-ExactVM $Operation.vm
            $secure = ConvertTo-SecureString -String $Operation.password -AsPlainText -Force
            $credential = New-Object System.Management.Automation.PSCredential($Operation.username, $secure)
            Invoke-Command -VMId $vm.Id -Credential $credential -ErrorAction Stop -ScriptBlock {
                param($Operations, $Allowed)
                $ErrorActionPreference = 'Stop'
                foreach ($nested in @($Operations)) {
                    if ($Allowed -notcontains $nested.cmdlet) {
                        throw "The cmdlet '$($nested.cmdlet)' is not in the hyperv.nested guest allow-list."
                    }
                    $splat = @{}
                    foreach ($property in $nested.parameters.PSObject.Properties) { $splat[$property.Name] = $property.Value }
                    $null = & $nested.cmdlet @splat -ErrorAction Stop
                }
            } -ArgumentList @($Operation.operations), $guestCmdlets
        }
        default { throw "Unknown operation kind '$($Operation.kind)'." }
    }
}

function Invoke-OperationList($Operations) {
    $report = @()
    $failedIndex = $null
    $index = 0
    foreach ($operation in @($Operations)) {
        $entry = [ordered]@{ index = $index; status = 'not_run'; message = $null; duration_ms = 0 }
        if ($null -eq $failedIndex) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            try {
                Invoke-Operation $operation
                $entry.status = 'ok'
            }
            catch {
                $entry.status = 'failed'
                $entry.message = $_.Exception.Message
                $failedIndex = $index
            }
            $entry.duration_ms = [int]$watch.ElapsedMilliseconds
        }
        $report += $entry
        $index++
    }
    , @($report, $failedIndex)
}

$main = Invoke-OperationList $Parameters.operations
$restore = @()
if ($null -ne $main[1] -and $Parameters.on_failure) {
    $restore = (Invoke-OperationList $Parameters.on_failure)[0]
}

$names = @()
foreach ($operation in @($Parameters.operations) + @($Parameters.on_failure)) {
    if ($operation -and $operation.vm -and $operation.kind -ne 'guest') { $names += [string]$operation.vm }
}
$states = [ordered]@{}
foreach ($name in ($names | Select-Object -Unique)) {
    $vm = @(Get-VM | Where-Object { $_.Name -eq $name })
    if ($vm.Count -eq 1) { $states[$name] = [string]$vm[0].State }
}

[ordered]@{
    ok = $true
    result = [ordered]@{
        operations = @($main[0])
        failed_index = $main[1]
        on_failure = @($restore)
        vm_states = $states
    }
}
